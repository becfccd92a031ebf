extension SQLiteDatabase {
    static let jobColumns = """
        name, enabled, nextRunAt, interval, cron, timezone, runExecutionTimeout, runStartTimeout, heartbeatTimeout,
        allowConcurrentRuns, maxQueueCount, catchUpWindow, maxRetries, retryDelay, managerId, heartbeat
        """

    static func job(_ row: SQLiteRow) throws(DatabaseError) -> Job {
        Job(
            name: try row.text(0), enabled: try row.bool(1), nextRunAt: try row.time(2), interval: try row.int(3),
            cron: try row.optionalText(4), timezone: try row.text(5), runExecutionTimeout: try row.int(6),
            runStartTimeout: try row.int(7), heartbeatTimeout: try row.int(8), allowConcurrentRuns: try row.bool(9),
            maxQueueCount: try row.int(10), catchUpWindow: try row.int(11), maxRetries: try row.int(12),
            retryDelay: try row.int(13), managerId: try row.optionalText(14), heartbeat: try row.time(15))
    }

    static func bindings(_ job: Job) -> [SQLiteValue] {
        [
            .text(job.name), SQLiteValue(job.enabled), SQLiteValue(job.nextRunAt), SQLiteValue(job.interval),
            SQLiteValue(job.cron), .text(job.timezone), SQLiteValue(job.runExecutionTimeout),
            SQLiteValue(job.runStartTimeout), SQLiteValue(job.heartbeatTimeout), SQLiteValue(job.allowConcurrentRuns),
            SQLiteValue(job.maxQueueCount), SQLiteValue(job.catchUpWindow), SQLiteValue(job.maxRetries),
            SQLiteValue(job.retryDelay), SQLiteValue(job.managerId), SQLiteValue(job.heartbeat),
        ]
    }

    private static let upsertJob =
        "INSERT OR REPLACE INTO jobs (\(jobColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    public func createJob(_ job: Job) async throws {
        var job = job
        job.managerId = nil
        job.heartbeat = nil
        try await transaction { [job] db in
            guard try db.query("SELECT 1 FROM jobs WHERE name = ?", [.text(job.name)]).isEmpty else {
                throw DatabaseError.jobExists(job.name)
            }
            try db.query(Self.upsertJob, Self.bindings(job))
            try Self.bumpJobsChangeMarker(db)
        }
        statistics.recordWrites(1)
    }

    static func bumpJobsChangeMarker(_ db: SQLiteConnection) throws(DatabaseError) {
        try db.query(
            "INSERT INTO meta (key, value) VALUES ('jobs', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1")
    }

    public func jobsChangeMarker() async throws -> Int64 {
        try await transaction(write: false) { db in
            try db.query("SELECT value FROM meta WHERE key = 'jobs'").first?.integer(0) ?? 0
        }
    }

    public func job(named name: String) async throws -> Job? {
        try await transaction(write: false) { db in
            try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE name = ?", [.text(name)]).first.map(Self.job)
        }
    }

    public func updateJob(named name: String, _ patch: JobPatch) async throws -> Job? {
        let updated = try await transaction { db -> Job? in
            guard let row = try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE name = ?", [.text(name)]).first
            else { return nil }
            let job = patch.applied(to: try Self.job(row))
            try db.query(Self.upsertJob, Self.bindings(job))
            try Self.bumpJobsChangeMarker(db)
            return job
        }
        if updated != nil { statistics.recordWrites(1) }
        return updated
    }

    public func deleteJob(named name: String) async throws -> Bool {
        let deleted = try await transaction { db in
            try db.query("DELETE FROM jobs WHERE name = ?", [.text(name)])
            guard db.changes > 0 else { return false }
            try Self.bumpJobsChangeMarker(db)
            return true
        }
        if deleted { statistics.recordWrites(1) }
        return deleted
    }

    public func jobs(after: String?, limit: Int) async throws -> Page<Job, String> {
        try await transaction(write: false) { db in
            let rows = try db.query(
                "SELECT \(Self.jobColumns) FROM jobs WHERE name > ? ORDER BY name LIMIT ?",
                [.text(after ?? ""), SQLiteValue(limit + 1)])
            let jobs = try rows.prefix(limit).map(Self.job)
            return Page(items: jobs, next: rows.count > limit ? jobs.last?.name : nil)
        }
    }

    public func jobs(lockedBy manager: String, after: String?, limit: Int) async throws -> [Job] {
        // jobs_manager holds (managerId, name): the table is keyed by name without a rowid.
        try await transaction(write: false) { db in
            try db.query(
                "SELECT \(Self.jobColumns) FROM jobs WHERE managerId = ? AND name > ? ORDER BY name LIMIT ?",
                [.text(manager), .text(after ?? ""), SQLiteValue(max(0, limit))]
            ).map(Self.job)
        }
    }
}
