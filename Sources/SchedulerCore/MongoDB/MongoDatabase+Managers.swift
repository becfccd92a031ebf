/// Managers and job locks (SPEC §6). Every lease age is computed from the server's
/// clock: either `$$NOW` inside an update pipeline or `hello`'s `localTime`, from which
/// cutoffs are computed and compared with plain `$lt`/`$gte` (SecantusDB matches
/// nothing when a filter's `$expr` compares a date with `$$NOW`).
///
/// A manager's document also lists the server sessions its fire transactions run in
/// (`sessions`, UUIDs): a process killed inside a transaction leaves it open, holding the
/// jobs it wrote against every other writer until the server gives it up (60 s on MongoDB
/// and SecantusDB), so whoever finds a manager dead ends those sessions before it claims or
/// releases the manager's jobs.
extension MongoDatabase {
    public func registerManager(id: String, hostname: String) async throws {
        // A new registration may follow the deletion of our document and of its session list.
        forgetAnnouncedSessions(of: id)
        try await perform { session throws(DatabaseError) in
            // An update pipeline so the heartbeat is the server's `$$NOW`: one round trip.
            _ = try session.update(
                "managers",
                [
                    [
                        "q": ["_id": BSON.identifier(id)],
                        "u": [["$set": ["hostname": .string(hostname), "heartbeat": "$$NOW"]]],
                        "upsert": true,
                    ]
                ])
            session.statistics.recordWrites(1)
        }
    }

    public func renewManager(id: String) async throws -> Bool {
        try await perform(lease: true) { session throws(DatabaseError) in
            let reply = try session.update(
                "managers", [["q": ["_id": BSON.identifier(id)], "u": [["$set": ["heartbeat": "$$NOW"]]]]])
            let matched = reply["n"]?.intValue ?? 0
            session.statistics.recordWrites(matched)
            return matched > 0
        }
    }

    public func removeManager(id: String) async throws {
        try await perform { session throws(DatabaseError) in
            session.statistics.recordWrites(try session.delete("managers", ["_id": BSON.identifier(id)], justOne: true))
        }
    }

    public func managers() async throws -> [Manager] {
        let documents = try await perform { session throws(DatabaseError) in
            try session.find("managers", [:], options: ["sort": ["_id": 1]])
        }
        return try documents.map(MongoDocuments.manager).sorted { $0.id < $1.id }
    }

    /// Five round trips whatever the number of jobs (three when nothing is claimable):
    /// server time, live managers, candidate names, one `update` with `multi`, and the
    /// claimed jobs read back; a claimer that lost races for some candidates repeats the
    /// last three (up to `claimAttempts` times in all). The update repeats the claimable
    /// filter, which the server evaluates per document atomically with its write, so of
    /// two racing claimers only one can lock a given job; the read-back returns exactly
    /// the ones we won.
    public func claimJobs(for manager: String, limit: Int?, leaseTimeout: Int) async throws -> [Job] {
        if let limit, limit <= 0 { return [] }
        let owner = BSON.identifier(manager)
        let documents = try await perform { session throws(DatabaseError) -> [BSONFields] in
            let now = try session.serverTime()
            let live = try self.liveManagerIDs(session, now: now, leaseTimeout: leaseTimeout)
            // A missing or null lock, the zero id (never a live manager's id) or a lock
            // naming a manager that is not live.
            let claimable: BSONFields = [
                "enabled": true,
                "$or": [
                    ["managerId": ["$exists": false]], ["managerId": nil],
                    ["managerId": ["$nin": .array(live)]],
                ],
            ]
            var claimed: [BSONFields] = []
            // Racing claimers see the same first candidates; one that lost some of them
            // looks again rather than wait for its next turn. Among live claimers every
            // lost candidate is progress for another, so this ends; the cap only guards
            // against claimers whose own leases expired stealing from one another.
            for _ in 0..<Self.claimAttempts {
                let wanted = limit.map { $0 - claimed.count }
                var options: BSONFields = ["sort": ["_id": 1], "projection": ["_id": 1]]
                if let wanted { options["limit"] = .int(wanted) }
                var search = claimable
                // Our own jobs stay claimable by us while we are not live: never twice.
                if !claimed.isEmpty { search["_id"] = ["$nin": .array(claimed.compactMap { $0["_id"] })] }
                let candidates = try session.find("jobs", search, options: options).compactMap { $0["_id"] }
                guard !candidates.isEmpty else { break }
                var filter = claimable
                filter["_id"] = ["$in": .array(candidates)]
                let reply = try session.update(
                    "jobs",
                    [
                        [
                            "q": .document(filter), "u": ["$set": ["managerId": owner, "heartbeat": .date(now)]],
                            "multi": true,
                        ]
                    ]
                )
                let won = reply["n"]?.intValue ?? 0
                session.statistics.recordWrites(won)
                if won > 0 {
                    claimed += try session.find(
                        "jobs", ["_id": ["$in": .array(candidates)], "managerId": owner], options: ["sort": ["_id": 1]])
                }
                // Winning every candidate means the limit is reached or nothing else was claimable.
                if won == candidates.count { break }
            }
            return claimed
        }
        return try documents.map(MongoDocuments.job).sorted { $0.name < $1.name }
    }

    public func releaseJobs(of manager: String, names: [String]?) async throws -> Int {
        var filter: BSONFields = ["managerId": ["$in": .array(BSON.identifierForms(manager))]]
        if let names {
            guard !names.isEmpty else { return 0 }
            filter["_id"] = ["$in": .array(names.map(BSON.string))]
        }
        return try await perform { [filter] session throws(DatabaseError) in
            try Self.unlock(session, filter)
        }
    }

    public func releaseJobsOfDeadManagers(leaseTimeout: Int) async throws -> Int {
        try await perform { session throws(DatabaseError) in
            let now = try session.serverTime()
            let live = try self.liveManagerIDs(session, now: now, leaseTimeout: leaseTimeout)
            // Any lock (the zero id included) that names no live manager.
            return try Self.unlock(session, ["managerId": ["$ne": nil, "$nin": .array(live)]])
        }
    }

    public func deleteManagers(silentFor silence: Int) async throws -> Int {
        try await perform { session throws(DatabaseError) in
            let cutoff = try session.serverTime().adding(milliseconds: -Int64(silence))
            let count = try session.delete("managers", ["heartbeat": ["$lt": .date(cutoff)]])
            session.statistics.recordWrites(count)
            return count
        }
    }

    /// How many times a claim looks for candidates in all (it looks again only after
    /// losing races for some).
    static let claimAttempts = 32

    /// Writes a job's lock field directly, as the original service might have left it
    /// (tests of the zero id and of foreign locks).
    func overwriteLock(job name: String, managerId: String?) async throws {
        let value = managerId.map(BSON.identifier) ?? .null
        try await perform { session throws(DatabaseError) in
            _ = try session.update("jobs", [["q": ["_id": .string(name)], "u": ["$set": ["managerId": value]]]])
        }
    }

    /// Lists the server session `id` in the document of `manager` unless this handle did so
    /// already: one `update` the first time a pooled session runs a transaction for it.
    func announce(session id: BSON, of manager: String, on session: MongoSession) throws(DatabaseError) {
        guard case .binary(_, let bytes) = id else { return }
        let key = AnnouncedSession(manager: manager, session: bytes)
        guard !announcedSessions.withLock({ $0.contains(key) }) else { return }
        let reply = try session.update(
            "managers",
            [["q": ["_id": ["$in": .array(BSON.identifierForms(manager))]], "u": ["$addToSet": ["sessions": id]]]])
        // No document: the transaction will find no lease and write nothing.
        guard (reply["n"]?.intValue ?? 0) > 0 else { return }
        session.statistics.recordWrites(1)
        announcedSessions.withLock { _ = $0.insert(key) }
    }

    func forgetAnnouncedSessions(of manager: String) {
        announcedSessions.withLock { $0 = $0.filter { $0.manager != manager } }
    }

    /// The `_id`s of managers whose heartbeat is at most `leaseTimeout` ms old at `now`,
    /// after ending the sessions listed by the others (see the extension's comment): one
    /// `find`, plus a `killSessions` and an `update` when a dead manager lists sessions.
    private func liveManagerIDs(_ session: MongoSession, now: Timestamp, leaseTimeout: Int) throws(DatabaseError)
        -> [BSON]
    {
        let cutoff = now.adding(milliseconds: -Int64(leaseTimeout)).milliseconds
        let documents = try session.find(
            "managers", [:], options: ["projection": ["_id": 1, "heartbeat": 1, "sessions": 1]])
        var live: [BSON] = []
        var dead: [(id: BSON, sessions: [BSON])] = []
        for document in documents {
            guard let id = document["_id"] else { continue }
            if case .date(let heartbeat)? = document["heartbeat"], heartbeat >= cutoff {
                // A job's lock may hold the id as an ObjectId or as its hex string.
                live.append(id)
                if let hex = id.objectIDHex { live.append(.string(hex)) }
            } else if let sessions = document["sessions"]?.arrayValue, !sessions.isEmpty {
                dead.append((id, sessions))
            }
        }
        if !dead.isEmpty { try endSessions(of: dead, session) }
        return live
    }

    /// Ends the listed sessions of dead managers (aborting any transaction they left open)
    /// and takes them off their lists. A server that refuses `killSessions` (no privilege,
    /// say) is logged and passed over: the claim then waits for the server to give the
    /// transaction up, as it would without the lists.
    private func endSessions(of dead: [(id: BSON, sessions: [BSON])], _ session: MongoSession)
        throws(DatabaseError)
    {
        let sessions = dead.flatMap(\.sessions)
        do {
            _ = try session.command(
                ["killSessions": .array(sessions.map { ["id": $0] })], "killSessions of dead managers")
        } catch where !error.isUnavailable {
            logger.warning(
                "cannot end the sessions of dead managers; their jobs stay locked until the server ends them",
                metadata: ["error": "\(error.message)"])
            return
        }
        // Only the sessions ended here: a manager that wakes may have listed new ones.
        _ = try session.update(
            "managers",
            dead.map { manager in
                ["q": ["_id": manager.id], "u": ["$pullAll": ["sessions": .array(manager.sessions)]]]
            }, ordered: false)
    }

    private static func unlock(_ session: MongoSession, _ filter: BSONFields) throws(DatabaseError) -> Int {
        let reply = try session.update(
            "jobs", [["q": .document(filter), "u": ["$unset": ["managerId": "", "heartbeat": ""]], "multi": true]])
        let count = reply["n"]?.intValue ?? 0
        session.statistics.recordWrites(count)
        return count
    }
}
