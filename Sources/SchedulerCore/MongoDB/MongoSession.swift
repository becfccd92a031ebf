internal import CMongoC

/// One operation's use of one pooled client: synchronous commands, counted in the
/// database's statistics. Lives only inside `MongoClientPool.withClient` on an executor
/// thread (a `mongoc_client_t` must not be shared between threads).
struct MongoSession {
    let client: OpaquePointer
    let databaseName: String
    let statistics: DatabaseStatistics
    /// The transaction every command and find of this session runs in, if any
    /// (see `inTransaction`).
    var transaction: MongoTransaction? = nil

    /// Runs one database command (one round trip) and returns the server's reply.
    /// A reply with `ok: 0` throws; write errors in an `ok: 1` reply are the caller's to read.
    func command(_ fields: BSONFields, _ operation: String) throws(DatabaseError) -> BSONFields {
        let command = try BSONDocument(fields)
        let reply = BSONDocument(reply: ())
        var error = bson_error_t()
        guard let transaction else {
            statistics.recordRoundTrip()
            guard mongoc_client_command_simple(client, databaseName, command.pointer, nil, reply.pointer, &error) else {
                throw MongoError.map(error, operation: operation)
            }
            return try reply.fields()
        }
        // `_with_opts` is the call that reads the session (and its transaction) from opts.
        let options = try BSONDocument([:])
        try transaction.append(to: options, operation: operation)
        statistics.recordRoundTrip()
        guard
            mongoc_client_command_with_opts(
                client, databaseName, command.pointer, nil, options.pointer, reply.pointer, &error)
        else {
            transaction.noteFailure(reply: reply.pointer, error: error)
            throw MongoError.map(error, operation: operation)
        }
        return try reply.fields()
    }

    /// The documents of `collection` matching `filter`, with find options (`sort`,
    /// `limit`, `projection`). Counted as one round trip; a result past the first batch
    /// costs the cursor's getMore requests too, which listings with a limit never need.
    func find(_ collection: String, _ filter: BSONFields, options: BSONFields = [:]) throws(DatabaseError)
        -> [BSONFields]
    {
        let filterDocument = try BSONDocument(filter)
        let optionsDocument = try BSONDocument(options)
        try transaction?.append(to: optionsDocument, operation: "find in \(collection)")
        guard let handle = mongoc_client_get_collection(client, databaseName, collection) else {
            throw DatabaseError.invalidArgument("cannot open collection \(collection)")
        }
        defer { mongoc_collection_destroy(handle) }
        guard
            let cursor = mongoc_collection_find_with_opts(handle, filterDocument.pointer, optionsDocument.pointer, nil)
        else { throw DatabaseError.invalidArgument("cannot create a cursor on \(collection)") }
        defer { mongoc_cursor_destroy(cursor) }
        statistics.recordRoundTrip()
        var results: [BSONFields] = []
        var document: OpaquePointer? = nil
        while mongoc_cursor_next(cursor, &document) {
            guard let document else { break }
            results.append(try BSONReader.fields(of: document))
        }
        var error = bson_error_t()
        var reply: OpaquePointer? = nil
        if mongoc_cursor_error_document(cursor, &error, &reply) {
            if let reply { transaction?.noteFailure(reply: reply, error: error) }
            throw MongoError.map(error, operation: "find in \(collection)")
        }
        return results
    }

    /// The server's clock: `hello`'s `localTime`, or `isMaster`'s for servers without `hello`.
    func serverTime() throws(DatabaseError) -> Timestamp {
        let reply: BSONFields
        do {
            reply = try command(["hello": 1], "hello")
        } catch  where !error.isUnavailable {
            reply = try command(["isMaster": 1], "isMaster")
        }
        guard case .date(let ms) = reply["localTime"] else {
            throw DatabaseError.invalidDocument("the server's hello reply has no localTime")
        }
        return Timestamp(milliseconds: ms)
    }

    // MARK: Write commands

    /// Every write gives up after this long instead of waiting without end: a transaction that a
    /// killed client abandoned keeps its documents locked on the test server (and until the
    /// transaction lifetime on MongoDB), and a claim or an edit must fail as transient, not hang.
    static let writeTimeout: BSON = .int32(10_000)

    /// `insert` of `documents` into `collection`; the reply (with any `writeErrors`).
    func insert(_ collection: String, _ documents: [BSONFields], ordered: Bool) throws(DatabaseError) -> BSONFields {
        try command(
            [
                "insert": .string(collection), "documents": .array(documents.map(BSON.document)),
                "ordered": .bool(ordered), "maxTimeMS": Self.writeTimeout,
            ],
            "insert into \(collection)")
    }

    /// One `update` command carrying `statements` (`{q, u, multi?, upsert?}`); the reply
    /// (`n` matched, `nModified`, any `writeErrors`) after write errors were thrown.
    func update(_ collection: String, _ statements: [BSONFields], ordered: Bool = true) throws(DatabaseError)
        -> BSONFields
    {
        let reply = try command(
            [
                "update": .string(collection), "updates": .array(statements.map(BSON.document)),
                "ordered": .bool(ordered), "maxTimeMS": Self.writeTimeout,
            ],
            "update \(collection)")
        try MongoError.checkWriteErrors(reply, operation: "update \(collection)")
        return reply
    }

    /// `delete` of the documents matching `filter` (all of them, or one with `justOne`); how many.
    func delete(_ collection: String, _ filter: BSONFields, justOne: Bool = false) throws(DatabaseError) -> Int {
        let statement: BSONFields = ["q": .document(filter), "limit": justOne ? 1 : 0]
        let reply = try command(
            ["delete": .string(collection), "deletes": [.document(statement)], "maxTimeMS": Self.writeTimeout],
            "delete from \(collection)")
        try MongoError.checkWriteErrors(reply, operation: "delete from \(collection)")
        return reply["n"]?.intValue ?? 0
    }

    /// `findAndModify` returning the document after the update, `nil` when none matched.
    func findAndModify(_ collection: String, query: BSONFields, update: BSONFields) throws(DatabaseError)
        -> BSONFields?
    {
        let reply = try command(
            [
                "findAndModify": .string(collection), "query": .document(query), "update": .document(update),
                "new": true, "maxTimeMS": Self.writeTimeout,
            ],
            "findAndModify \(collection)")
        return reply["value"]?.documentValue
    }
}
