/// An error a handler throws to answer with a status and a JSON body (`{"error":…}` unless
/// `body` says otherwise).
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    public var message: String
    public var headers: HTTPHeaders
    /// A complete JSON body replacing the standard `{"error":…}`.
    public var body: [UInt8]?

    public init(_ status: HTTPStatus, _ message: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]? = nil) {
        self.status = status
        self.message = message
        self.headers = headers
        self.body = body
    }

    public var description: String { "\(status.code): \(message)" }

    public var response: HTTPResponse {
        body.map { HTTPResponse.json(status, $0, headers: headers) } ?? .error(status, message, headers: headers)
    }

    public static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message) }
    public static func notFound(_ message: String) -> HTTPError { HTTPError(.notFound, message) }
    public static func conflict(_ message: String) -> HTTPError { HTTPError(.conflict, message) }
    public static func serviceUnavailable(_ message: String) -> HTTPError { HTTPError(.serviceUnavailable, message) }

    /// 401 with the `WWW-Authenticate` challenge of RFC 6750 §3: `invalid_token` when a token
    /// was sent, a bare challenge when none was.
    public static func unauthorized(_ message: String, tokenSent: Bool = true) -> HTTPError {
        let challenge = tokenSent ? #"Bearer realm="api", error="invalid_token""# : #"Bearer realm="api""#
        return HTTPError(.unauthorized, message, headers: HTTPHeaders([("WWW-Authenticate", challenge)]))
    }

    /// 403 `{"error":"Missing required scopes","missing_scopes":[…]}`.
    public static func forbidden(missingScopes: [String]) -> HTTPError {
        var body = Array(#"{"error":"Missing required scopes","missing_scopes":["#.utf8)
        for (index, scope) in missingScopes.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            appendJSONString(scope, to: &body)
        }
        body.append(contentsOf: "]}".utf8)
        return HTTPError(.forbidden, "Missing required scopes", body: body)
    }
}
