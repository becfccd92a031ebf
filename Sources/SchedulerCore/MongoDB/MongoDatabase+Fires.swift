/// Fenced fires and the publish outbox (SPEC §5, §6).
extension MongoDatabase {
    /// One multi-document transaction for the whole batch, eight round trips however many
    /// fires (fewer when nothing holds): the server's time, then in the transaction the
    /// manager's lease, the batch's jobs, the runs that already hold an id and those that
    /// hold a slot of the batch, one `update` of every moved `nextRunAt`, one `insert` of
    /// every new run, and the commit.
    ///
    /// Decisions are made in Swift from documents read inside the transaction, which hold
    /// at commit: a writer that changed a job we write (a claim, a release, an API edit, a
    /// racing fire) makes ours fail with a write conflict, and the batch is decided again
    /// from fresh reads (`transactionAttempts` times at most, then `.unavailable`). A run
    /// that would hit a unique index is never sent: a duplicate key error aborts a
    /// transaction on MongoDB and on SecantusDB alike (its reply is `ok: 1` with
    /// `writeErrors`, and the commit then fails with `NoSuchTransaction`), so taken slots
    /// and ids are read first and answered `.duplicateSlot` from that read.
    ///
    /// The lease is read, not written: a custodian that deletes our manager document after
    /// our snapshot does not conflict with us, but nobody else can take a job without
    /// writing its document, which does. The transaction's server session is listed in the
    /// manager's document first (one more round trip, the first time each pooled session is
    /// used), since a process killed inside the transaction leaves its writes holding those
    /// jobs until the server gives the transaction up (60 s on MongoDB): whoever finds the
    /// manager dead ends its sessions (`killSessions`) before taking its jobs.
    public func recordFires(_ fires: [SlotFire], manager: String, leaseTimeout: Int) async throws -> [FireOutcome] {
        guard !fires.isEmpty else { return [] }
        let owners = BSON.identifierForms(manager)
        let outcomes = try await perform { session throws(DatabaseError) -> [FireOutcome] in
            // `hello` may not run inside a transaction; its time only needs to precede the read.
            let cutoff = try session.serverTime().adding(milliseconds: -Int64(leaseTimeout))
            let outcomes = try session.inTransaction(
                attempts: Self.transactionAttempts,
                announce: { session, id throws(DatabaseError) in
                    try self.announce(session: id, of: manager, on: session)
                }
            ) { tx throws(DatabaseError) in
                let outcomes = try Self.decideAndWrite(fires, tx, owners: owners, manager: manager, cutoff: cutoff)
                self.beforeFireCommit.withLock { $0 }?()
                return outcomes
            }
            // A lost lease may mean our document was deleted and our listed sessions with it.
            if outcomes.allSatisfy({ $0 == .lockLost }) { self.forgetAnnouncedSessions(of: manager) }
            return outcomes
        }
        // Counted once, after the commit: aborted attempts wrote nothing.
        statistics.recordWrites(
            outcomes.reduce(0) { sum, outcome in
                guard case .recorded(let inserted) = outcome else { return sum }
                return sum + 1 + inserted.count { $0 == .inserted }
            })
        return outcomes
    }

    /// Whole-batch attempts of `recordFires` before a run of conflicts surfaces as `.unavailable`.
    static let transactionAttempts = 5

    /// One attempt of `recordFires` inside its transaction.
    private static func decideAndWrite(
        _ fires: [SlotFire], _ tx: MongoSession, owners: [BSON], manager: String, cutoff: Timestamp
    ) throws(DatabaseError) -> [FireOutcome] {
        let lease = try tx.find(
            "managers", ["_id": ["$in": .array(owners)], "heartbeat": ["$gte": .date(cutoff)]],
            options: ["limit": 1, "projection": ["_id": 1]])
        guard !lease.isEmpty else { return fires.map { _ in .lockLost } }

        let names = Array(Set(fires.map(\.jobName)))
        let documents = try tx.find(
            "jobs", ["_id": ["$in": .array(names.map(BSON.string))]],
            options: ["projection": ["_id": 1, "managerId": 1, "enabled": 1, "nextRunAt": 1]])
        // The jobs as this batch leaves them: a second fire of one job sees the first's move.
        var jobs: [String: Job] = [:]
        for document in documents {
            let job = try MongoDocuments.job(document)
            jobs[job.name] = job
        }

        var recorded: [Int] = []
        var outcomes = [FireOutcome](repeating: .lockLost, count: fires.count)
        var statements: [BSONFields] = []
        for (index, fire) in fires.enumerated() {
            guard let job = jobs[fire.jobName], job.managerId == manager else { continue }
            guard job.enabled, job.nextRunAt == fire.expectedNextRunAt else {
                outcomes[index] = .changed
                continue
            }
            jobs[fire.jobName]?.nextRunAt = fire.nextRunAt
            recorded.append(index)
            statements.append([
                "q": .document(casFilter(fire, owners: owners)),
                "u": ["$set": ["nextRunAt": .date(fire.nextRunAt)]],
            ])
        }
        guard !recorded.isEmpty else { return outcomes }

        let runs = recorded.flatMap { fires[$0].runs }
        var taken = try takenKeys(of: runs, tx)
        var documentsToInsert: [BSONFields] = []
        for index in recorded {
            outcomes[index] = .recorded(
                fires[index].runs.map { run in
                    // In batch order, as the in-memory adapter inserts: a later run of the
                    // batch with an earlier one's slot or id is the duplicate.
                    guard taken.claim(run) else { return .duplicateSlot }
                    documentsToInsert.append(MongoDocuments.document(run))
                    return .inserted
                })
        }

        // Ordered: two fires of one job in a batch must move its nextRunAt in turn.
        let reply = try tx.update("jobs", statements, ordered: true)
        guard reply["n"]?.intValue == statements.count else {
            // Cannot happen within our snapshot unless something we did not read changed;
            // deciding again from fresh reads is the safe answer.
            tx.transaction?.markTransient()
            throw DatabaseError.unavailable("a fire's job changed inside its transaction")
        }
        if !documentsToInsert.isEmpty {
            let reply = try tx.insert("runs", documentsToInsert, ordered: true)
            let duplicate = (reply["writeErrors"]?.arrayValue ?? []).contains {
                $0.documentValue?["code"]?.intValue == MongoError.duplicateKey
            }
            // A slot or id taken by a writer that committed after our snapshot; the server
            // aborted the transaction, and the next attempt reads the run and skips it.
            if duplicate { tx.transaction?.markTransient() }
            try MongoError.checkWriteErrors(reply, operation: "insert fired runs")
        }
        return outcomes
    }

    /// The job's CAS condition: still ours, enabled, at the expected `nextRunAt`; the same
    /// readings as `MongoDocuments.job` (an absent `enabled` is true, a null, absent or
    /// year-1 `nextRunAt` is unset).
    private static func casFilter(_ fire: SlotFire, owners: [BSON]) -> BSONFields {
        let unset: BSON = [nil, .date(BSON.zeroTimeMilliseconds)]
        return [
            "_id": .string(fire.jobName),
            "managerId": ["$in": .array(owners)],
            "enabled": ["$ne": false],
            "nextRunAt": fire.expectedNextRunAt.map { BSON.date($0) } ?? ["$in": unset],
        ]
    }

    /// The ids and slots of `runs` that stored runs hold already: two `find`s, by id and by
    /// slot time. Not one `$or` with a branch per slot: SecantusDB answers an `$or` by testing
    /// every branch against every run stored, seconds per batch once runs number thousands,
    /// while `createdTime` and `_id` each have an index (the batch's slots share few times).
    private static func takenKeys(of runs: [Run], _ tx: MongoSession) throws(DatabaseError) -> TakenKeys {
        var keys = TakenKeys()
        guard !runs.isEmpty else { return keys }
        for document in try tx.find(
            "runs", ["_id": ["$in": .array(runs.map { .objectID($0.id) })]], options: ["projection": ["_id": 1]])
        {
            if let hex = document["_id"]?.objectIDHex { keys.ids.insert(hex) }
        }
        // Only scheduled runs enter the slot index (its partial filter is `trigger: schedule`).
        let slotted = runs.filter(\.occupiesSlot)
        guard !slotted.isEmpty else { return keys }
        let wanted = Set(slotted.map { Slot(jobName: $0.jobName, createdTime: $0.createdTime.milliseconds) })
        let filter: BSONFields = [
            "createdTime": ["$in": .array(Set(wanted.map(\.createdTime)).sorted().map(BSON.date))],
            "jobName": ["$in": .array(Set(wanted.map(\.jobName)).sorted().map(BSON.string))],
            "trigger": "schedule",
        ]
        for document in try tx.find("runs", filter, options: ["projection": ["jobName": 1, "createdTime": 1]]) {
            guard let jobName = document["jobName"]?.stringValue, case .date(let ms)? = document["createdTime"]
            else { continue }
            // The filter is a cross product of names and times; only the batch's own pairs count.
            let slot = Slot(jobName: jobName, createdTime: ms)
            if wanted.contains(slot) { keys.slots.insert(slot) }
        }
        return keys
    }

    private struct Slot: Hashable {
        let jobName: String
        let createdTime: Int64
    }

    /// Ids and slots taken, by stored runs or by runs earlier in the batch.
    private struct TakenKeys {
        var ids: Set<String> = []
        var slots: Set<Slot> = []

        /// Takes the run's id (and slot) unless one is taken; whether it was free.
        mutating func claim(_ run: Run) -> Bool {
            let slot = Slot(jobName: run.jobName, createdTime: run.createdTime.milliseconds)
            guard !ids.contains(run.id.hex), !(run.occupiesSlot && slots.contains(slot)) else { return false }
            ids.insert(run.id.hex)
            if run.occupiesSlot { slots.insert(slot) }
            return true
        }
    }

    // MARK: The publish outbox

    /// One `update` command, one statement per action, each a compare-and-set on the
    /// status and attempt the action was published for.
    public func markPublished(_ actions: [PublishedAction]) async throws {
        guard !actions.isEmpty else { return }
        let statements: [BSONFields] = actions.map { action in
            [
                "q": [
                    "_id": .objectID(action.id), "status": .string(action.status.rawValue),
                    // Documents of the original have no attempt: they are at their first.
                    "attempt": action.attempt == 1 ? ["$in": [1, nil]] : .int(action.attempt),
                ],
                "u": ["$set": ["published": true]],
            ]
        }
        try await perform { session throws(DatabaseError) in
            let reply = try session.update("runs", statements, ordered: false)
            session.statistics.recordWrites(reply["n"]?.intValue ?? 0)
        }
    }

    /// `pending` and `cancelling` runs without `published: true`, oldest first; served by
    /// the `status_1_published_1` index.
    public func unpublishedRuns(jobNames: [String]?) async throws -> [Run] {
        if let jobNames, jobNames.isEmpty { return [] }
        var filter: BSONFields = [
            "status": ["$in": [.string(RunStatus.pending.rawValue), .string(RunStatus.cancelling.rawValue)]],
            // Documents of the original have no `published` field: unconfirmed, as far as we know.
            "published": ["$ne": true],
        ]
        if let jobNames { filter["jobName"] = ["$in": .array(jobNames.map(BSON.string))] }
        let documents = try await perform { [filter] session throws(DatabaseError) in
            try session.find("runs", filter, options: ["sort": ["createdTime": 1, "_id": 1]])
        }
        return try documents.map(MongoDocuments.run)
    }
}
