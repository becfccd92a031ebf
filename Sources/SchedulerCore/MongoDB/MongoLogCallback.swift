internal import CMongoC

/// The C callback libmongoc calls for each log line (see `MongoLogHandler`).
///
/// A free function, in a file of its own, so it converts to a `@convention(c)` pointer
/// without captured context: libmongoc calls it from its own threads.
func mongoLogCallback(
    level: mongoc_log_level_t, domain: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?,
    userData: UnsafeMutableRawPointer?
) {
    // Trace lines are per-byte wire dumps; not worth formatting.
    guard level != MONGOC_LOG_LEVEL_TRACE else { return }
    MongoLogHandler.log(
        level: level, domain: domain.map { String(cString: $0) } ?? "mongoc",
        message: message.map { String(cString: $0) } ?? "")
}
