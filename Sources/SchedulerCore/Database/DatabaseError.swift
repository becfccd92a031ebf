/// An error from a `Database` adapter. Callers switch on the static constructors' kinds,
/// never on message text; no adapter's native error escapes.
public struct DatabaseError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Code: Hashable, Sendable {
        case jobExists
        case malformedRunID
        case unavailable
        case invalidDocument
        case invalidArgument
    }

    let code: Code
    /// What happened, in words for logs and API errors.
    public let message: String

    /// A job with this name exists already.
    public static func jobExists(_ name: String) -> DatabaseError {
        DatabaseError(code: .jobExists, message: "a job named '\(name)' already exists")
    }

    /// A run id that is not 24 hex digits.
    public static func malformedRunID(_ text: String) -> DatabaseError {
        DatabaseError(code: .malformedRunID, message: "'\(text.prefix(64))' is not a run id (24 hex digits)")
    }

    /// The database could not be reached or failed transiently; retrying may succeed.
    public static func unavailable(_ detail: String) -> DatabaseError {
        DatabaseError(code: .unavailable, message: "database unavailable: \(detail)")
    }

    /// A stored document or row that does not have the shape this version reads.
    public static func invalidDocument(_ detail: String) -> DatabaseError {
        DatabaseError(code: .invalidDocument, message: "invalid stored data: \(detail)")
    }

    /// A request the adapter cannot express (a programming error on the caller's side).
    public static func invalidArgument(_ detail: String) -> DatabaseError {
        DatabaseError(code: .invalidArgument, message: detail)
    }

    public var isJobExists: Bool { code == .jobExists }
    public var isMalformedRunID: Bool { code == .malformedRunID }
    /// Transient: the operation may be retried (a status message is requeued, an API call gets 503).
    public var isUnavailable: Bool { code == .unavailable }
    public var isInvalidDocument: Bool { code == .invalidDocument }

    public var description: String { message }
}
