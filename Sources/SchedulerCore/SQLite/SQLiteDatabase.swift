import Foundation
import Logging

/// The embedded default `Database`: one SQLite file, shared safely by the scheduler,
/// api and custodian processes of one machine.
///
/// WAL lets readers proceed while one process writes; writes take the lock up front
/// (`BEGIN IMMEDIATE`) and wait up to the busy timeout for it. The database's clock is
/// this machine's clock, which every process sharing the file also reads (SQLite files
/// must not be shared over a network file system, so there is no second clock).
public final class SQLiteDatabase: Database {
    // Confined to `executor`'s single thread; see SQLiteConnection.
    private nonisolated(unsafe) var connection: SQLiteConnection?
    private let executor: BlockingExecutor
    private let path: String
    private let logger: Logger
    private let clock: @Sendable () -> Timestamp
    public let statistics = DatabaseStatistics()

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String, logger: Logger, clock: @escaping @Sendable () -> Timestamp = { .now }) {
        self.path = path
        self.logger = logger
        self.clock = clock
        self.executor = BlockingExecutor(name: "sqlite", threads: 1)
    }

    deinit {
        executor.submit { [connection] in _ = connection }  // closed on its own thread, after queued work
        executor.shutdown()
    }

    public func prepare() async throws {
        try await transaction { db in
            for statement in Self.schema { try db.execute(statement) }
        }
    }

    public func now() async throws -> Timestamp { clock() }

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS jobs (
            name TEXT PRIMARY KEY, enabled INTEGER NOT NULL, nextRunAt INTEGER, interval INTEGER NOT NULL,
            cron TEXT, timezone TEXT NOT NULL, runExecutionTimeout INTEGER NOT NULL, runStartTimeout INTEGER NOT NULL,
            heartbeatTimeout INTEGER NOT NULL, allowConcurrentRuns INTEGER NOT NULL, maxQueueCount INTEGER NOT NULL,
            catchUpWindow INTEGER NOT NULL, maxRetries INTEGER NOT NULL, retryDelay INTEGER NOT NULL,
            managerId TEXT, heartbeat INTEGER
        ) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS jobs_manager ON jobs(managerId)",
        """
        CREATE TABLE IF NOT EXISTS runs (
            id TEXT PRIMARY KEY, jobName TEXT NOT NULL, status TEXT NOT NULL, createdTime INTEGER NOT NULL,
            startTime INTEGER, endTime INTEGER, heartbeat INTEGER, trigger TEXT NOT NULL, attempt INTEGER NOT NULL,
            missedSlots INTEGER NOT NULL, retryOf TEXT, statusTime INTEGER, published INTEGER NOT NULL DEFAULT 0
        )
        """,
        // Each slot of a schedule has one fate; manual runs and retries are outside the index.
        "CREATE UNIQUE INDEX IF NOT EXISTS runs_slot ON runs(jobName, createdTime) WHERE trigger = 'schedule'",
        "CREATE INDEX IF NOT EXISTS runs_newest ON runs(createdTime DESC, id DESC)",
        "CREATE INDEX IF NOT EXISTS runs_job_status ON runs(jobName, status)",
        "CREATE INDEX IF NOT EXISTS runs_status ON runs(status)",
        // The publish outbox is small; a partial index keeps its look-up cheap however many runs there are.
        "CREATE INDEX IF NOT EXISTS runs_unpublished ON runs(jobName) WHERE published = 0 AND status IN ('pending', 'cancelling')",
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS managers (id TEXT PRIMARY KEY, hostname TEXT NOT NULL, heartbeat INTEGER NOT NULL)",
    ]

    /// Runs `body` in one transaction on the connection's thread: one round trip.
    /// `write` transactions take the write lock at once, so two processes never deadlock
    /// upgrading read locks.
    func transaction<T: Sendable>(
        write: Bool = true, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        statistics.recordRoundTrip()
        return try await executor.run { [self] in
            let db = try openConnection()
            try db.execute(write ? "BEGIN IMMEDIATE" : "BEGIN")
            do {
                let result = try body(db)
                try db.execute("COMMIT")
                return result
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    private func openConnection() throws -> SQLiteConnection {
        if let connection { return connection }
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA journal_mode=WAL")
        // FULL: a committed run survives power loss too, not only a process crash.
        try db.execute("PRAGMA synchronous=FULL")
        connection = db
        return db
    }
}
