import ServiceLifecycle

/// Runs a daemon's loop as a service; graceful shutdown (SIGTERM, SIGINT) cancels it, and the
/// loop's own cancellation path finishes in-flight work and releases what it holds.
public struct DaemonService: Service {
    let body: @Sendable () async throws -> Void

    public init(_ body: @escaping @Sendable () async throws -> Void) { self.body = body }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await body() }
    }
}
