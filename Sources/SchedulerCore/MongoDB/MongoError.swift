internal import CMongoC

/// Maps libmongoc's `bson_error_t` and server error documents to `DatabaseError`,
/// so no raw domain or code escapes the adapter.
enum MongoError {
    /// The server's code for a unique index violation.
    static let duplicateKey = 11000

    /// Server error codes that mean "try again": elections, shutdowns, network trouble
    /// between replica set members, timeouts (the driver specifications' retryable set).
    private static let transientServerCodes: Set<Int> = [
        6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 50, 64, 46,
    ]

    /// The `DatabaseError` for a failed libmongoc call. `reply`, when the call produced
    /// one, may carry a better message (`errmsg`).
    static func map(_ error: bson_error_t, operation: String) -> DatabaseError {
        let message = withUnsafeBytes(of: error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let detail = "\(operation): \(message)"
        switch error.domain {
        case MONGOC_ERROR_STREAM.rawValue, MONGOC_ERROR_SERVER_SELECTION.rawValue, MONGOC_ERROR_PROTOCOL.rawValue:
            return .unavailable(detail)
        case MONGOC_ERROR_CLIENT.rawValue:
            // Authentication and "client not ready" problems: the server is there but
            // this connection cannot use it yet; nothing the caller's input can fix.
            return .unavailable(detail)
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_WRITE_CONCERN.rawValue, MONGOC_ERROR_QUERY.rawValue:
            return serverError(code: Int(error.code), message: detail)
        default:
            return .invalidArgument(detail)
        }
    }

    /// The `DatabaseError` for a server error code in a reply.
    static func serverError(code: Int, message: String) -> DatabaseError {
        if transientServerCodes.contains(code) { return .unavailable("\(message) (code \(code))") }
        // Anything else is the server refusing what we sent: not transient, and not the
        // caller's data either, so it surfaces as a request the adapter could not express.
        return .invalidArgument("database refused the request: \(message) (code \(code))")
    }

    /// Throws for `writeErrors` (except those `ignoring` accepts) and `writeConcernError`
    /// in a write command's reply, which arrive with `ok: 1`.
    static func checkWriteErrors(
        _ reply: BSONFields, operation: String,
        ignoring: (_ index: Int, _ error: BSONFields) -> Bool = { _, _ in false }
    ) throws(DatabaseError) {
        for item in reply["writeErrors"]?.arrayValue ?? [] {
            guard let error = item.documentValue else { continue }
            let index = error["index"]?.intValue ?? -1
            if ignoring(index, error) { continue }
            let code = error["code"]?.intValue ?? 0
            throw serverError(code: code, message: "\(operation): \(error["errmsg"]?.stringValue ?? "write error")")
        }
        if let concern = reply["writeConcernError"]?.documentValue {
            let code = concern["code"]?.intValue ?? 0
            throw serverError(code: code, message: "\(operation): \(concern["errmsg"]?.stringValue ?? "write concern")")
        }
    }
}
