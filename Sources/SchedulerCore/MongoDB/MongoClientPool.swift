internal import CMongoC
import Logging

/// The owner of one `mongoc_client_pool_t` and its `mongoc_uri_t`.
///
/// `@unchecked Sendable` because libmongoc documents `mongoc_client_pool_t` as
/// thread-safe (pop and push from any thread), while a `mongoc_client_t` is not:
/// a client is popped for one operation on one executor thread and pushed back
/// before that thread takes other work, so no client is ever shared.
final class MongoClientPool: @unchecked Sendable {
    private let pool: OpaquePointer
    private let uri: OpaquePointer

    /// libmongoc's process-wide initialization, run once before the first pool.
    private static let initialized: Void = { mongoc_init() }()

    /// Parses `connectionString` and creates the pool (no connection is made yet).
    init(connectionString: String, logger: Logger) throws(DatabaseError) {
        _ = Self.initialized
        MongoLogHandler.install(logger)
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(connectionString, &error) else {
            throw DatabaseError.invalidArgument(
                "bad MongoDB connection string: \(MongoError.map(error, operation: "parse URI").message)")
        }
        guard let pool = mongoc_client_pool_new(uri) else {
            mongoc_uri_destroy(uri)
            throw DatabaseError.invalidArgument("cannot create a MongoDB client pool for this connection string")
        }
        self.uri = uri
        self.pool = pool
        // Version 2 reports server errors in MONGOC_ERROR_SERVER with the server's own
        // code, which MongoError maps; the legacy API folds them into other domains.
        mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2)
        _ = mongoc_client_pool_set_appname(pool, "simple-scheduler")
    }

    deinit {
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }

    /// Runs `body` with a client of its own; blocks while all clients are in use, so call
    /// it only on an executor thread.
    func withClient<T>(_ body: (OpaquePointer) throws(DatabaseError) -> T) throws(DatabaseError) -> T {
        guard let client = mongoc_client_pool_pop(pool) else {
            throw DatabaseError.unavailable("no MongoDB client available")
        }
        defer { mongoc_client_pool_push(pool, client) }
        return try body(client)
    }
}
