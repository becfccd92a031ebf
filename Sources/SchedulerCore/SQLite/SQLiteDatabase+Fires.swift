extension SQLiteDatabase {
    public func recordFires(_ fires: [SlotFire], manager: String, leaseTimeout: Int) async throws -> [FireOutcome] {
        guard !fires.isEmpty else { return [] }
        let cutoff = try await now().adding(milliseconds: -Int64(leaseTimeout))
        let outcomes = try await transaction { db in
            // The lease fence and the writes share one transaction: a paused instance that wakes
            // past its lease finds its heartbeat stale here and writes nothing.
            let leaseHolds = try !db.query(
                "SELECT 1 FROM managers WHERE id = ? AND heartbeat >= ?", [.text(manager), SQLiteValue(cutoff)]
            ).isEmpty
            return try fires.map { fire throws(DatabaseError) -> FireOutcome in
                guard leaseHolds,
                    let row = try db.query(
                        "SELECT enabled, nextRunAt FROM jobs WHERE name = ? AND managerId = ?",
                        [.text(fire.jobName), .text(manager)]
                    ).first
                else { return .lockLost }
                guard try row.bool(0), try row.time(1) == fire.expectedNextRunAt else { return .changed }
                try db.query("UPDATE jobs SET nextRunAt = ? WHERE name = ?", [SQLiteValue(fire.nextRunAt), .text(fire.jobName)])
                return .recorded(try fire.runs.map { run throws(DatabaseError) in try Self.insert(run, db) })
            }
        }
        statistics.recordWrites(
            outcomes.reduce(0) { sum, outcome in
                guard case .recorded(let inserted) = outcome else { return sum }
                return sum + 1 + inserted.count { $0 == .inserted }
            })
        return outcomes
    }

    public func markPublished(_ actions: [PublishedAction]) async throws {
        guard !actions.isEmpty else { return }
        let written = try await transaction { db in
            var count = 0
            for action in actions {
                try db.query(
                    "UPDATE runs SET published = 1 WHERE id = ? AND status = ? AND attempt = ?",
                    [.text(action.id.hex), .text(action.status.rawValue), SQLiteValue(action.attempt)])
                count += db.changes
            }
            return count
        }
        statistics.recordWrites(written)
    }

    public func unpublishedRuns(jobNames: [String]?) async throws -> [Run] {
        let runs = try await transaction(write: false) { db in
            try db.query(
                """
                SELECT \(Self.runColumns) FROM runs WHERE published = 0 AND status IN ('pending', 'cancelling')
                ORDER BY createdTime
                """
            ).map(Self.run)
        }
        guard let jobNames else { return runs }
        let names = Set(jobNames)
        return runs.filter { names.contains($0.jobName) }
    }
}
