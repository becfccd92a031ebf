internal import CSQLite

/// The owner of one `sqlite3*` handle and its prepared statements.
///
/// Not thread-safe by design: SQLite connections opened with `SQLITE_OPEN_NOMUTEX`
/// must be used by one thread at a time, so `SQLiteDatabase` confines each connection
/// to a one-thread `BlockingExecutor`.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws(DatabaseError) {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw .unavailable("cannot open SQLite database '\(path)': \(message)")
        }
        // Waiting for another process's write lock rather than failing at once is what
        // lets scheduler, api and custodian share one file.
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs SQL text without results (schema, pragmas, transaction control).
    func execute(_ sql: String) throws(DatabaseError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        defer { sqlite3_free(error) }
        guard status == SQLITE_OK else {
            throw Self.error(status, error.map { String(cString: $0) } ?? "unknown error", sql: sql)
        }
    }

    /// Runs one statement with `bindings` and returns every row.
    @discardableResult
    func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(DatabaseError) -> [SQLiteRow] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, index)
            case .integer(let number): status = sqlite3_bind_int64(statement, index, number)
            case .text(let text):
                status = text.withCString { csqlite_bind_text(statement, index, $0, Int32(text.utf8.count)) }
            }
            guard status == SQLITE_OK else { throw Self.error(status, lastMessage, sql: sql) }
        }
        var rows: [SQLiteRow] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw Self.error(status, lastMessage, sql: sql) }
            let count = sqlite3_column_count(statement)
            var values: [SQLiteValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_NULL: values.append(.null)
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
                default:
                    let text = sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
                    values.append(.text(text))
                }
            }
            rows.append(SQLiteRow(values: values))
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    private var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    private func prepared(_ sql: String) throws(DatabaseError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw Self.error(status, lastMessage, sql: sql) }
        statements[sql] = statement
        return statement
    }

    private static func error(_ status: Int32, _ message: String, sql: String) -> DatabaseError {
        switch status & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL:
            return .unavailable("SQLite: \(message)")
        default:
            return .invalidArgument("SQLite error \(status): \(message) in: \(sql.prefix(120))")
        }
    }
}

/// A value bound to or read from an SQLite statement; the schema uses only these three.
enum SQLiteValue: Hashable {
    case null
    case integer(Int64)
    case text(String)

    init(_ time: Timestamp?) { self = time.map { .integer($0.milliseconds) } ?? .null }
    init(_ text: String?) { self = text.map { .text($0) } ?? .null }
    init(_ number: Int) { self = .integer(Int64(number)) }
    init(_ flag: Bool) { self = .integer(flag ? 1 : 0) }
}

/// One result row, read by column position.
struct SQLiteRow {
    let values: [SQLiteValue]

    func integer(_ column: Int) throws(DatabaseError) -> Int64 {
        guard case .integer(let value) = values[column] else { throw .invalidDocument("column \(column) is not an integer") }
        return value
    }

    func int(_ column: Int) throws(DatabaseError) -> Int { Int(try integer(column)) }
    func bool(_ column: Int) throws(DatabaseError) -> Bool { try integer(column) != 0 }

    func text(_ column: Int) throws(DatabaseError) -> String {
        guard case .text(let value) = values[column] else { throw .invalidDocument("column \(column) is not text") }
        return value
    }

    func optionalText(_ column: Int) throws(DatabaseError) -> String? {
        if case .null = values[column] { return nil }
        return try text(column)
    }

    func time(_ column: Int) throws(DatabaseError) -> Timestamp? {
        if case .null = values[column] { return nil }
        return Timestamp(milliseconds: try integer(column))
    }
}
