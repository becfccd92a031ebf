extension SQLiteDatabase {
    public func registerManager(id: String, hostname: String) async throws {
        let now = try await self.now()
        try await transaction { db in
            try db.query(
                "INSERT OR REPLACE INTO managers (id, hostname, heartbeat) VALUES (?, ?, ?)",
                [.text(id), .text(hostname), SQLiteValue(now)])
        }
        statistics.recordWrites(1)
    }

    public func renewManager(id: String) async throws -> Bool {
        let now = try await self.now()
        let renewed = try await transaction { db in
            try db.query("UPDATE managers SET heartbeat = ? WHERE id = ?", [SQLiteValue(now), .text(id)])
            return db.changes > 0
        }
        if renewed { statistics.recordWrites(1) }
        return renewed
    }

    public func removeManager(id: String) async throws {
        try await transaction { db in try db.query("DELETE FROM managers WHERE id = ?", [.text(id)]) }
        statistics.recordWrites(1)
    }

    public func managers() async throws -> [Manager] {
        try await transaction(write: false) { db in
            try db.query("SELECT id, hostname, heartbeat FROM managers ORDER BY id").map { row throws(DatabaseError) in
                Manager(
                    id: try row.text(0), hostname: try row.text(1),
                    heartbeat: Timestamp(milliseconds: try row.integer(2)))
            }
        }
    }

    /// A job is locked when its manager is live; anything else (no manager, the zero id,
    /// a silent or deleted manager) is claimable.
    private static let claimable = """
        (managerId IS NULL OR managerId NOT IN (SELECT id FROM managers WHERE heartbeat >= ?))
        """

    public func claimJobs(for manager: String, limit: Int?, leaseTimeout: Int) async throws -> [Job] {
        let now = try await self.now()
        let cutoff = now.adding(milliseconds: -Int64(leaseTimeout))
        let claimed = try await transaction { db in
            // One statement: SQLite's write lock makes the whole claim atomic across processes.
            try db.query(
                """
                UPDATE jobs SET managerId = ?, heartbeat = ? WHERE name IN (
                    SELECT name FROM jobs WHERE enabled = 1 AND \(Self.claimable) ORDER BY name LIMIT ?)
                RETURNING \(Self.jobColumns)
                """,
                [.text(manager), SQLiteValue(now), SQLiteValue(cutoff), SQLiteValue(limit ?? -1)]
            ).map(Self.job)
        }
        statistics.recordWrites(claimed.count)
        return claimed.sorted { $0.name < $1.name }
    }

    public func releaseJobs(of manager: String, names: [String]?) async throws -> Int {
        let released = try await transaction { db in
            if let names {
                var count = 0
                for name in names {
                    try db.query(
                        "UPDATE jobs SET managerId = NULL, heartbeat = NULL WHERE managerId = ? AND name = ?",
                        [.text(manager), .text(name)])
                    count += db.changes
                }
                return count
            }
            try db.query("UPDATE jobs SET managerId = NULL, heartbeat = NULL WHERE managerId = ?", [.text(manager)])
            return db.changes
        }
        statistics.recordWrites(released)
        return released
    }

    public func releaseJobsOfDeadManagers(leaseTimeout: Int) async throws -> Int {
        let cutoff = try await now().adding(milliseconds: -Int64(leaseTimeout))
        let released = try await transaction { db in
            try db.query(
                "UPDATE jobs SET managerId = NULL, heartbeat = NULL WHERE managerId IS NOT NULL AND \(Self.claimable)",
                [SQLiteValue(cutoff)])
            return db.changes
        }
        statistics.recordWrites(released)
        return released
    }

    public func deleteManagers(silentFor silence: Int) async throws -> Int {
        let cutoff = try await now().adding(milliseconds: -Int64(silence))
        let deleted = try await transaction { db in
            try db.query("DELETE FROM managers WHERE heartbeat < ?", [SQLiteValue(cutoff)])
            return db.changes
        }
        statistics.recordWrites(deleted)
        return deleted
    }
}
