extension SQLiteDatabase {
    static let runColumns = """
        id, jobName, status, createdTime, startTime, endTime, heartbeat, trigger, attempt, missedSlots, retryOf, statusTime,
        published
        """

    static func run(_ row: SQLiteRow) throws(DatabaseError) -> Run {
        let statusText = try row.text(2)
        let triggerText = try row.text(7)
        guard let status = RunStatus(rawValue: statusText), let trigger = RunTrigger(rawValue: triggerText) else {
            throw .invalidDocument("run with status '\(statusText)' and trigger '\(triggerText)'")
        }
        return Run(
            id: try RunID(validating: try row.text(0)), jobName: try row.text(1), status: status,
            createdTime: Timestamp(milliseconds: try row.integer(3)), startTime: try row.time(4),
            endTime: try row.time(5), heartbeat: try row.time(6), trigger: trigger, attempt: try row.int(8),
            missedSlots: try row.int(9), retryOf: try row.optionalText(10).map { text throws(DatabaseError) in
                try RunID(validating: text)
            }, statusTime: try row.time(11), published: try row.bool(12))
    }

    public func insertRuns(_ runs: [Run]) async throws -> [InsertOutcome] {
        guard !runs.isEmpty else { return [] }
        let outcomes = try await transaction { db in try runs.map { run throws(DatabaseError) in try Self.insert(run, db) } }
        statistics.recordWrites(outcomes.count { $0 == .inserted })
        return outcomes
    }

    /// Inserts one run unless its slot (scheduled runs) or its id is taken.
    static func insert(_ run: Run, _ db: SQLiteConnection) throws(DatabaseError) -> InsertOutcome {
        try db.query(
            "INSERT INTO runs (\(runColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                .text(run.id.hex), .text(run.jobName), .text(run.status.rawValue), SQLiteValue(run.createdTime),
                SQLiteValue(run.startTime), SQLiteValue(run.endTime), SQLiteValue(run.heartbeat),
                .text(run.trigger.rawValue), SQLiteValue(run.attempt), SQLiteValue(run.missedSlots),
                SQLiteValue(run.retryOf?.hex), SQLiteValue(run.statusTime), SQLiteValue(run.published),
            ])
        return db.changes > 0 ? .inserted : .duplicateSlot
    }

    public func run(id: RunID) async throws -> Run? {
        try await runs(ids: [id]).first
    }

    public func runs(ids: [RunID]) async throws -> [Run] {
        guard !ids.isEmpty else { return [] }
        return try await transaction(write: false) { db in
            let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            return try db.query(
                "SELECT \(Self.runColumns) FROM runs WHERE id IN (\(placeholders))", ids.map { .text($0.hex) }
            ).map(Self.run)
        }
    }

    public func applyTransitions(_ transitions: [RunTransition]) async throws -> [TransitionOutcome] {
        let legal = transitions.filter(\.isLegal)
        guard !legal.isEmpty else { return transitions.map { _ in .illegal } }
        let outcomes = try await transaction { db in
            try transitions.map { transition throws(DatabaseError) -> TransitionOutcome in
                guard transition.isLegal else { return .illegal }
                let (assignments, values) = Self.assignments(transition.changes)
                var bindings = values + [.text(transition.id.hex), .text(transition.from.rawValue)]
                var condition = "id = ? AND status = ?"
                if let attempt = transition.attempt {
                    condition += " AND attempt = ?"
                    bindings.append(SQLiteValue(attempt))
                }
                try db.query("UPDATE runs SET \(assignments) WHERE \(condition)", bindings)
                if db.changes > 0 { return .applied }
                let exists = try !db.query("SELECT 1 FROM runs WHERE id = ?", [.text(transition.id.hex)]).isEmpty
                return exists ? .conflict : .notFound
            }
        }
        statistics.recordWrites(outcomes.count { $0 == .applied })
        return outcomes
    }

    private static func assignments(_ changes: RunChanges) -> (String, [SQLiteValue]) {
        var parts: [String] = []
        var values: [SQLiteValue] = []
        if let status = changes.status {
            parts.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if let startTime = changes.startTime {
            parts.append("startTime = ?")
            values.append(SQLiteValue(startTime))
        }
        if let endTime = changes.endTime {
            parts.append("endTime = ?")
            values.append(SQLiteValue(endTime))
        }
        if changes.clearHeartbeat { parts.append("heartbeat = NULL") }
        if let heartbeat = changes.heartbeat {
            // Forward only: a late heartbeat must not hide a newer one.
            parts.append("heartbeat = MAX(COALESCE(heartbeat, ?), ?)")
            values.append(SQLiteValue(heartbeat))
            values.append(SQLiteValue(heartbeat))
        }
        if let statusTime = changes.statusTime {
            parts.append("statusTime = ?")
            values.append(SQLiteValue(statusTime))
        }
        if changes.incrementAttempt { parts.append("attempt = attempt + 1") }
        if let published = changes.published {
            parts.append("published = ?")
            values.append(SQLiteValue(published))
        }
        return (parts.joined(separator: ", "), values)
    }

    public func runs(matching query: RunQuery, after cursor: RunCursor?, limit: Int?) async throws
        -> Page<Run, RunCursor>
    {
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let jobNames = query.jobNames {
            conditions.append("jobName IN (\(Array(repeating: "?", count: jobNames.count).joined(separator: ", ")))")
            bindings += jobNames.map { .text($0) }
        }
        if let statuses = query.statuses {
            conditions.append("status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", ")))")
            bindings += statuses.map { .text($0.rawValue) }
        }
        if let trigger = query.trigger {
            conditions.append("trigger = ?")
            bindings.append(.text(trigger.rawValue))
        }
        for (column, bound) in [
            ("createdTime", query.createdBefore), ("startTime", query.startedBefore),
            ("heartbeat", query.heartbeatBefore),
        ] {
            if let bound {
                conditions.append("\(column) < ?")
                bindings.append(SQLiteValue(bound))
            }
        }
        if let cursor {
            conditions.append("(createdTime < ? OR (createdTime = ? AND id < ?))")
            bindings += [SQLiteValue(cursor.createdTime), SQLiteValue(cursor.createdTime), .text(cursor.id.hex)]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(Self.runColumns) FROM runs \(filter) ORDER BY createdTime DESC, id DESC LIMIT ?"
        bindings.append(SQLiteValue(limit.map { $0 + 1 } ?? -1))
        return try await transaction(write: false) { [bindings] db in
            let rows = try db.query(sql, bindings)
            let runs = try rows.prefix(limit ?? rows.count).map(Self.run)
            let more = limit.map { rows.count > $0 } ?? false
            return Page(items: runs, next: more ? runs.last.map(RunCursor.init(after:)) : nil)
        }
    }

    public func deleteFinalRuns(endedBefore time: Timestamp) async throws -> Int {
        let finals = RunStatus.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let deleted = try await transaction { db in
            try db.query(
                "DELETE FROM runs WHERE status IN (\(finals)) AND COALESCE(endTime, createdTime) < ?",
                [SQLiteValue(time)])
            return db.changes
        }
        statistics.recordWrites(deleted)
        return deleted
    }
}
