import Logging
import Synchronization

/// Reports a dependency's outage once when it begins and once when it ends, however many
/// operations fail in between: a scheduler retries every few hundred milliseconds, and a line
/// per retry would bury everything else in the log.
public final class OutageLog: Sendable {
    private let what: String
    private let logger: Logger
    private let failingSince = Mutex<ContinuousClock.Instant?>(nil)

    public init(_ what: String, logger: Logger) {
        self.what = what
        self.logger = logger
    }

    /// Whether the dependency is failing now.
    public var isFailing: Bool { failingSince.withLock { $0 != nil } }

    /// An operation failed because the dependency is unreachable.
    public func failed(_ error: Error) {
        let first = failingSince.withLock { since -> Bool in
            guard since == nil else { return false }
            since = .now
            return true
        }
        if first { logger.error("\(what) unavailable; retrying until it is back", metadata: ["error": "\(error)"]) }
    }

    /// An operation succeeded.
    public func succeeded() {
        guard let since = failingSince.withLock({ since -> ContinuousClock.Instant? in
            defer { since = nil }
            return since
        }) else { return }
        let seconds = Double((ContinuousClock.now - since).components.seconds)
        logger.info("\(what) available again", metadata: ["outage.seconds": "\(Int(seconds))"])
    }
}

extension Logger {
    /// Logs a failed operation at error, except when the database is unavailable: the database's
    /// `OutageLog` reports that once, and each retry is only a debug line.
    public func failure(_ message: @autoclosure () -> Logger.Message, _ error: Error, metadata: Logger.Metadata = [:]) {
        let unavailable = (error as? DatabaseError)?.isUnavailable == true
        log(level: unavailable ? .debug : .error, message(), metadata: metadata.merging(["error": "\(error)"]) { $1 })
    }
}
