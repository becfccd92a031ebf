import Logging
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

extension ServiceGroup {
    /// A daemon's service group: SIGTERM and SIGINT start a graceful shutdown, bounded so the
    /// process always exits (in-flight work gets 20 s, then cancellation gets 10 s more).
    public static func daemon(_ services: [any Service], logger: Logger) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        configuration.maximumCancellationDuration = .seconds(10)
        return ServiceGroup(configuration: configuration)
    }
}
