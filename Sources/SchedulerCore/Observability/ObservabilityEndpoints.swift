import Foundation
import HTTPServer
import Logging
import Metrics
import Prometheus

/// `/metrics` (Prometheus text format) and `/health` for a daemon.
public final class Observability: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Creates the registry and makes it the process's metrics backend (once, in `main`).
    public static func bootstrap() -> Observability {
        let observability = Observability(registry: PrometheusCollectorRegistry())
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: observability.registry))
        return observability
    }

    /// A registry of its own, not the process's backend (tests).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) { self.registry = registry }

    /// The two routes, for a router of the daemon's own (the api) or for `serve`.
    public func addRoutes(to router: inout RouterBuilder, health: @escaping @Sendable () async -> Bool) {
        let registry = self.registry
        router.add("GET", "/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            var headers = HTTPHeaders()
            headers.append(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            return HTTPResponse(status: .ok, headers: headers, body: buffer)
        }
        router.add("GET", "/health") { _, _ in
            await health()
                ? .json(.ok, Array(#"{"status":"ok"}"#.utf8))
                : .json(.serviceUnavailable, Array(#"{"status":"unhealthy"}"#.utf8))
        }
    }

    /// Serves the two routes on `address` (scheduler and custodian:
    /// `SIMPLE_SCHEDULER_METRICS_URL`). Logs the bound port.
    public func serve(on address: ListenAddress, logger: Logger, health: @escaping @Sendable () async -> Bool) throws -> HTTPServer {
        var router = RouterBuilder()
        addRoutes(to: &router, health: health)
        var quiet = logger
        quiet.logLevel = .warning  // scrapes every few seconds would flood the access log
        let application = Application(responder: router.build(), authenticator: nil, logger: quiet)
        var configuration = HTTPServerConfiguration(host: address.host, port: Int(address.port), eventLoops: 1)
        configuration.maxConnections = 64
        let server = try HTTPServer(configuration: configuration, handler: application.handler)
        logger.info("metrics listening", metadata: ["http.address": "\(address)", "http.port": "\(server.port)"])
        return server
    }
}
