import Logging
import Metrics

/// The middleware around the router, in order: request id, routing (404/405 as JSON), bearer
/// authentication and scope checks, the handler, errors → JSON (unknown ones logged, answered with
/// a generic 500), access log.
public struct Application: Sendable {
    private let responder: Responder
    private let authenticator: (any Authenticator)?
    private let logger: Logger

    public init(responder: Responder, authenticator: (any Authenticator)?, logger: Logger) {
        self.responder = responder
        self.authenticator = authenticator
        self.logger = logger
    }

    /// The server's handler.
    public var handler: HTTPHandler { { request in await self.respond(to: request) } }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        let requestID = Self.requestID(from: request.headers["X-Request-Id"])
        var identity: Identity?
        var route = "unmatched"
        var response: HTTPResponse
        do {
            response = try await dispatch(request, requestID: requestID, identity: &identity, route: &route)
        } catch let error as HTTPError {
            response = error.response
        } catch {
            logger.error(
                "request failed", metadata: ["request.id": "\(requestID)", "error": "\(String(reflecting: error))"])
            response = .error(.internalServerError, "internal error; the server log has the details (request \(requestID))")
        }
        response.headers.append(name: "X-Request-Id", value: requestID)
        let elapsed = started.duration(to: .now)
        let dimensions = [("route", route), ("method", request.method), ("status", String(response.status.code))]
        Timer(label: "http_request_duration_seconds", dimensions: dimensions)
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        Counter(label: "http_requests_total", dimensions: dimensions).increment()
        logger.info(
            "request",
            metadata: [
                "request.id": "\(requestID)", "http.method": "\(request.method)", "http.target": "\(request.target)",
                "http.status": "\(response.status.code)", "duration.ms": "\(elapsed.milliseconds)",
                "auth.subject": "\(identity?.subject ?? "-")",
            ])
        return response
    }

    private func dispatch(
        _ request: HTTPRequest, requestID: String, identity: inout Identity?, route: inout String
    ) async throws -> HTTPResponse {
        switch responder.route(method: request.method, target: request.target) {
        case .notFound:
            throw HTTPError.notFound("no route for \(request.method) \(Self.path(of: request.target))")
        case .methodNotAllowed(let allow):
            throw HTTPError(
                .methodNotAllowed, "\(request.method) is not allowed here; allowed: \(allow.joined(separator: ", "))",
                headers: HTTPHeaders([("Allow", allow.joined(separator: ", "))]))
        case .found(let handler, let parameters, let scopes):
            route = parameters.pattern
            if !scopes.isEmpty {
                let caller = try await authenticate(request)
                identity = caller
                let missing = scopes.filter { !caller.scopes.contains($0) }
                guard missing.isEmpty else { throw HTTPError.forbidden(missingScopes: missing) }
            }
            return try await handler(request, RequestContext(requestID: requestID, parameters: parameters, identity: identity))
        }
    }

    private func authenticate(_ request: HTTPRequest) async throws(HTTPError) -> Identity {
        guard let header = request.headers["Authorization"] else {
            throw .unauthorized("missing Authorization: Bearer <token>", tokenSent: false)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].caseInsensitiveEquals("bearer") else {
            throw .unauthorized("the Authorization header must be \"Bearer <token>\"", tokenSent: false)
        }
        guard let authenticator else { throw .unauthorized("no authentication is configured") }
        return try await authenticator.authenticate(bearer: parts[1].trimmingASCIIWhitespace())
    }

    /// The client's id when it is short and plain (it is logged and echoed), else a new one.
    static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count),
            header.utf8.allSatisfy({ $0.isTokenCharacter && $0 != UInt8(ascii: "%") })
        {
            return header
        }
        // One 64-bit draw (one getrandom call) gives all 16 hex digits.
        var generator = SystemRandomNumberGenerator()
        let bits: UInt64 = generator.next()
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<16).map { hex[Int((bits >> ($0 * 4)) & 0xF)] }, as: UTF8.self)
    }

    private static func path(of target: String) -> Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }
}
