internal import CMongoC
import Logging
import Synchronization

/// Routes libmongoc's own log lines to swift-log.
///
/// libmongoc calls its handler from whatever thread logs (our executor threads and
/// the pool's background monitoring threads), so the handler is a free `@convention(c)`
/// function, never a closure capturing context, and the `Logger` it writes to lives in
/// a lock-protected global.
enum MongoLogHandler {
    private static let logger = Mutex<Logger?>(nil)
    private static let installed = Mutex(false)

    /// Installs the handler once per process; later calls only replace the logger.
    static func install(_ logger: Logger) {
        var driverLogger = logger
        driverLogger[metadataKey: "db.driver"] = "libmongoc"
        self.logger.withLock { $0 = driverLogger }
        let first = installed.withLock { installed -> Bool in
            defer { installed = true }
            return !installed
        }
        if first { mongoc_log_set_handler(mongoLogCallback, nil) }
    }

    /// Logs one line from libmongoc at the matching swift-log level.
    static func log(level: mongoc_log_level_t, domain: String, message: String) {
        guard let logger = logger.withLock({ $0 }) else { return }
        let swiftLevel: Logger.Level
        switch level {
        case MONGOC_LOG_LEVEL_ERROR, MONGOC_LOG_LEVEL_CRITICAL: swiftLevel = .error
        case MONGOC_LOG_LEVEL_WARNING: swiftLevel = .warning
        case MONGOC_LOG_LEVEL_MESSAGE, MONGOC_LOG_LEVEL_INFO: swiftLevel = .info
        case MONGOC_LOG_LEVEL_DEBUG: swiftLevel = .debug
        default: swiftLevel = .trace
        }
        logger.log(level: swiftLevel, "\(message)", metadata: ["db.driver.domain": "\(domain)"])
    }
}
