extension MongoDatabase {
    /// One `insert` command, unordered, whatever the batch size: a duplicate slot or id
    /// fails only its own document, reported in `writeErrors` by its index in the batch.
    public func insertRuns(_ runs: [Run]) async throws -> [InsertOutcome] {
        guard !runs.isEmpty else { return [] }
        let documents = runs.map(MongoDocuments.document)
        let occupiesSlot = runs.map(\.occupiesSlot)
        return try await perform { session throws(DatabaseError) in
            let reply = try session.insert("runs", documents, ordered: false)
            var outcomes = [InsertOutcome](repeating: .inserted, count: documents.count)
            try MongoError.checkWriteErrors(reply, operation: "insert runs") { index, error in
                guard error["code"]?.intValue == MongoError.duplicateKey, outcomes.indices.contains(index) else {
                    return false
                }
                // A reused `_id` is the same run inserted again (a retry after a lost reply):
                // idempotent, like a taken slot. Only a scheduled run can hit the slot index.
                guard Self.isIdViolation(error) || (occupiesSlot[index] && Self.isSlotViolation(error)) else {
                    return false
                }
                outcomes[index] = .duplicateSlot
                return true
            }
            session.statistics.recordWrites(outcomes.count { $0 == .inserted })
            return outcomes
        }
    }

    public func run(id: RunID) async throws -> Run? {
        try await perform { session throws(DatabaseError) in
            try session.find("runs", ["_id": .objectID(id)], options: ["limit": 1]).first.map(MongoDocuments.run)
        }
    }

    public func runs(ids: [RunID]) async throws -> [Run] {
        guard !ids.isEmpty else { return [] }
        let filter: BSONFields = ["_id": ["$in": .array(ids.map(BSON.objectID))]]
        let documents = try await perform { session throws(DatabaseError) in try session.find("runs", filter) }
        return try documents.map(MongoDocuments.run)
    }

    public func applyTransitions(_ transitions: [RunTransition]) async throws -> [TransitionOutcome] {
        var outcomes = [TransitionOutcome](repeating: .illegal, count: transitions.count)
        let legal = transitions.indices.filter { transitions[$0].isLegal }
        guard !legal.isEmpty else { return outcomes }
        let results = try await perform { session throws(DatabaseError) in
            try MongoTransitionBatch(transitions: legal.map { transitions[$0] }).apply(session)
        }
        for (index, outcome) in zip(legal, results) { outcomes[index] = outcome }
        return outcomes
    }

    public func runs(matching query: RunQuery, after cursor: RunCursor?, limit: Int?) async throws
        -> Page<Run, RunCursor>
    {
        if let limit, limit <= 0 { return Page(items: [], next: nil) }
        var filter = Self.filter(query)
        if let cursor {
            let created = BSON.date(cursor.createdTime)
            let position: BSON = [
                "$or": [
                    ["createdTime": ["$lt": created]],
                    ["createdTime": created, "_id": ["$lt": .objectID(cursor.id)]],
                ]
            ]
            // `$and` keeps a query's own `$or` (none today) apart from the cursor's.
            filter = ["$and": [.document(filter), position]]
        }
        var options: BSONFields = ["sort": ["createdTime": -1, "_id": -1]]
        // One more than asked says whether a next page exists.
        if let limit { options["limit"] = .int(limit + 1) }
        let documents = try await perform { [filter, options] session throws(DatabaseError) in
            try session.find("runs", filter, options: options)
        }
        let runs = try documents.map(MongoDocuments.run)
        guard let limit, runs.count > limit else { return Page(items: runs, next: nil) }
        let items = Array(runs.prefix(limit))
        return Page(items: items, next: items.last.map(RunCursor.init(after:)))
    }

    public func deleteFinalRuns(endedBefore time: Timestamp) async throws -> Int {
        let finals = RunStatus.allCases.filter(\.isFinal).map { BSON.string($0.rawValue) }
        let unset: BSON = [nil, .date(BSON.zeroTimeMilliseconds)]
        let filter: BSONFields = [
            "status": ["$in": .array(finals)],
            "$or": [
                ["endTime": ["$lt": .date(time), "$gt": .date(BSON.zeroTimeMilliseconds)]],
                ["endTime": ["$in": unset], "createdTime": ["$lt": .date(time)]],
            ],
        ]
        return try await perform { session throws(DatabaseError) in
            let count = try session.delete("runs", filter)
            session.statistics.recordWrites(count)
            return count
        }
    }

    /// The filter for `query`; the `…Before` bounds are strict, and an unset time (null,
    /// absent or the original's year-1 date) never passes one.
    ///
    /// The field order matters to SecantusDB, which answers from the index of the filter's first
    /// indexed field and tests the rest against every run that index yields: runs in unfinished
    /// statuses are few, so asked for, they come first (an engine's query for its jobs' open runs
    /// took 1.5 s with 7,000 runs stored when it started from the names, 0.09 s from the statuses).
    /// MongoDB's planner does not care.
    static func filter(_ query: RunQuery) -> BSONFields {
        var filter = BSONFields()
        let statuses = query.statuses.map { statuses in
            BSON.document(["$in": .array(statuses.map { .string($0.rawValue) })])
        }
        let unfinished = query.statuses.map { $0.allSatisfy { !$0.isFinal } } ?? false
        if unfinished { filter["status"] = statuses }
        if let names = query.jobNames { filter["jobName"] = ["$in": .array(names.map(BSON.string))] }
        if !unfinished, let statuses { filter["status"] = statuses }
        if let trigger = query.trigger {
            // Documents of the original have no trigger: they were all scheduled.
            filter["trigger"] = trigger == .schedule ? ["$in": ["schedule", nil]] : .string(trigger.rawValue)
        }
        if let t = query.createdBefore { filter["createdTime"] = ["$lt": .date(t)] }
        let set = BSON.date(BSON.zeroTimeMilliseconds)
        if let t = query.startedBefore { filter["startTime"] = ["$lt": .date(t), "$gt": set] }
        if let t = query.heartbeatBefore { filter["heartbeat"] = ["$lt": .date(t), "$gt": set] }
        return filter
    }

    /// Whether a duplicate key error is the `_id` index's (a run inserted again).
    static func isIdViolation(_ error: BSONFields) -> Bool {
        if let pattern = error["keyPattern"]?.documentValue { return pattern["_id"] != nil }
        return (error["errmsg"]?.stringValue ?? "").contains("_id")
    }

    /// Whether a duplicate key error is the slot index's (not a reused `_id`). Servers
    /// name the index in `errmsg` and, since MongoDB 4.4, add `keyPattern`.
    static func isSlotViolation(_ error: BSONFields) -> Bool {
        if let pattern = error["keyPattern"]?.documentValue { return pattern["jobName"] != nil }
        let message = error["errmsg"]?.stringValue ?? ""
        if message.contains("jobName") { return true }
        return !message.contains("_id")
    }
}
