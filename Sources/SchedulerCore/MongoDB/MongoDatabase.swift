import Logging
import Synchronization

/// The `Database` on MongoDB (or a server speaking its protocol) through libmongoc,
/// with the original Go service's collections and document shapes (`jobs`, `runs`,
/// `managers`; see `MongoDocuments`).
///
/// libmongoc's calls block, so every operation runs on a `BlockingExecutor` thread with
/// a client popped from the pool for that operation alone, never on Swift's cooperative
/// pool. Lease ages are computed from the server's clock (`hello`'s `localTime`).
public final class MongoDatabase: Database {
    /// Round trips and written documents, as counted by this adapter.
    public let statistics = DatabaseStatistics()

    let databaseName: String
    let logger: Logger
    private let pool: MongoClientPool
    private let executor: BlockingExecutor
    /// One thread of its own for the instance's lease: a renewal queued behind a burst of fires
    /// or status updates on a slow server would let the lease lapse.
    private let leaseExecutor: BlockingExecutor

    /// Threads, and so clients in use at once, per database handle. libmongoc's pool
    /// holds up to 100 clients by default, well above this.
    private static let threads = 8

    /// The server sessions (manager id and session id) this handle has listed in a manager's
    /// document: each is listed once, before its first transaction (see `announce`).
    let announcedSessions = Mutex<Set<AnnouncedSession>>([])

    struct AnnouncedSession: Hashable {
        let manager: String
        let session: [UInt8]
    }

    /// Runs inside each fire transaction after its writes, before the commit: tests freeze a
    /// process there, as a kill or a pause would.
    let beforeFireCommit = Mutex<(@Sendable () -> Void)?>(nil)

    /// Opens a pool on `connectionString` (a `mongodb://` URI; set
    /// `serverSelectionTimeoutMS` there to fail fast); nothing is connected until the
    /// first operation. Throws `DatabaseError` for a URI libmongoc does not accept.
    public init(connectionString: String, databaseName: String, logger: Logger) throws {
        guard !databaseName.isEmpty else { throw DatabaseError.invalidArgument("the MongoDB database name is empty") }
        self.databaseName = databaseName
        self.logger = logger
        pool = try MongoClientPool(connectionString: connectionString, logger: logger)
        executor = BlockingExecutor(name: "mongodb", threads: Self.threads)
        leaseExecutor = BlockingExecutor(name: "mongodb-lease", threads: 1)
    }

    deinit {
        executor.shutdown()
        leaseExecutor.shutdown()
    }

    /// Runs `body` with a pooled client on an executor thread (`lease`: on the lease's own thread).
    func perform<T: Sendable>(
        lease: Bool = false, _ body: @escaping @Sendable (MongoSession) throws(DatabaseError) -> T
    ) async throws -> T {
        let pool = pool
        let databaseName = databaseName
        let statistics = statistics
        return try await (lease ? leaseExecutor : executor).run {
            try pool.withClient { client throws(DatabaseError) in
                try body(MongoSession(client: client, databaseName: databaseName, statistics: statistics))
            }
        }
    }

    /// Creates the indexes every query here relies on; `createIndexes` is idempotent.
    public func prepare() async throws {
        let indexes: [(String, [BSONFields])] = [
            (
                "runs",
                [
                    // Scheduled runs are unique per slot; manual runs and retries never collide.
                    [
                        "key": ["jobName": 1, "createdTime": 1], "name": "jobName_createdTime_schedule",
                        "unique": true, "partialFilterExpression": ["trigger": "schedule"],
                    ],
                    ["key": ["createdTime": -1, "_id": -1], "name": "createdTime_-1__id_-1"],
                    ["key": ["status": 1], "name": "status_1"],
                    ["key": ["jobName": 1, "status": 1], "name": "jobName_1_status_1"],
                    // The publish outbox: few runs are pending or cancelling and unconfirmed.
                    ["key": ["status": 1, "published": 1], "name": "status_1_published_1"],
                ]
            ),
            (
                "jobs",
                // By holder, then name: a scheduler pages through its jobs in name order.
                [
                    ["key": ["managerId": 1, "_id": 1], "name": "managerId_1__id_1"],
                    ["key": ["enabled": 1], "name": "enabled_1"],
                ]
            ),
            ("managers", [["key": ["heartbeat": 1], "name": "heartbeat_1"]]),
        ]
        try await perform { session throws(DatabaseError) in
            for (collection, specs) in indexes {
                _ = try session.command(
                    ["createIndexes": .string(collection), "indexes": .array(specs.map(BSON.document))],
                    "createIndexes on \(collection)")
            }
        }
    }

    /// The server's clock.
    public func now() async throws -> Timestamp {
        try await perform { session throws(DatabaseError) in try session.serverTime() }
    }

    /// Stops the executor's threads once queued operations are done. Also done on deinit.
    public func shutdown() {
        executor.shutdown()
        leaseExecutor.shutdown()
    }
}
