import Foundation
import HTTPServer
import Logging
import SchedulerCore

/// The routes of SPEC §7 over a database and a message bus. Everything about jobs and runs lives
/// here; the HTTP server below knows nothing of them.
struct SchedulerAPI: Sendable {
    let database: any Database
    let bus: any MessageBus
    let logger: Logger
    var observability = Observability()

    enum Scope {
        static let jobsRead = "jobs:read"
        static let jobsWrite = "jobs:write"
        static let runsRead = "runs:read"
        static let runsWrite = "runs:write"
    }

    func responder() -> Responder {
        var router = RouterBuilder()
        router.add("GET", "/api/status") { _, _ in .json(.ok, Array(#"{"status":"OK"}"#.utf8)) }
        router.add("GET", "/api/openapi.json") { _, _ in .json(.ok, OpenAPIDocument.bytes) }
        // Unauthenticated, for Prometheus and load balancers: /metrics and /health.
        observability.addRoutes(to: &router) { [database] in (try? await database.now()) != nil }
        router.add("GET", "/api/jobs", scopes: [Scope.jobsRead]) { request, _ in try await listJobs(request) }
        router.add("POST", "/api/jobs", scopes: [Scope.jobsWrite]) { request, _ in try await createJob(request) }
        router.add("GET", "/api/jobs/{name}", scopes: [Scope.jobsRead]) { _, context in
            try await getJob(context["name"]!)
        }
        router.add("PATCH", "/api/jobs/{name}", scopes: [Scope.jobsWrite]) { request, context in
            try await updateJob(context["name"]!, request)
        }
        router.add("DELETE", "/api/jobs/{name}", scopes: [Scope.jobsWrite]) { _, context in
            try await deleteJob(context["name"]!)
        }
        router.add("POST", "/api/jobs/{name}/runs", scopes: [Scope.runsWrite]) { _, context in
            try await triggerJob(context["name"]!)
        }
        router.add("GET", "/api/jobs/{name}/schedule", scopes: [Scope.jobsRead]) { request, context in
            try await schedule(context["name"]!, request)
        }
        router.add("GET", "/api/runs", scopes: [Scope.runsRead]) { request, _ in try await listRuns(request) }
        router.add("GET", "/api/runs/{id}", scopes: [Scope.runsRead]) { _, context in try await getRun(context["id"]!) }
        router.add("POST", "/api/runs/{id}/cancel", scopes: [Scope.runsWrite]) { _, context in
            try await cancelRun(context["id"]!)
        }
        // The original API cancelled with GET; its clients keep working.
        router.add("GET", "/api/runs/{id}/cancel", scopes: [Scope.runsWrite]) { _, context in
            try await cancelRun(context["id"]!)
        }
        return router.build()
    }

    // MARK: - Shared helpers

    /// Runs a database call; an unreachable database is a 503 the client can retry, not a 500.
    func storage<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.isUnavailable {
            logger.warning("database unavailable", metadata: ["error": "\(error)"])
            throw HTTPError.serviceUnavailable("the database is unavailable; try again shortly")
        } catch let error as DatabaseError where error.isMalformedRunID {
            throw HTTPError.badRequest(error.message)
        }
    }

    func json(_ status: HTTPStatus, _ value: some Encodable, headers: HTTPHeaders = HTTPHeaders()) throws -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return .json(status, Array(try encoder.encode(value)), headers: headers)
    }

    /// Runs and jobs, and lists of them, are written directly: the same bytes, a fraction of the CPU.
    func json(_ status: HTTPStatus, _ value: some JSONBody, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var body: [UInt8] = []
        value.writeJSON(to: &body)
        return .json(status, body, headers: headers)
    }
}
