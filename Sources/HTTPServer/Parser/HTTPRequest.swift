/// A complete request: head and (de-chunked) body.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent (origin form: path and query).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, minorVersion: Int = 1, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// Whether the connection stays open after the response (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let options = headers.tokens("Connection")
        return minorVersion >= 1 ? !options.contains("close") : options.contains("keep-alive")
    }

    /// The client waits for `100 Continue` before sending the body (RFC 9110 §10.1.1).
    public var expectsContinue: Bool { minorVersion >= 1 && headers.tokens("Expect").contains("100-continue") }
}

/// The parser's hard limits; anything over them is refused with the status RFC 9110 names.
public struct HTTPLimits: Sendable {
    /// Request line, CRLF included: longer → 414.
    public var maxRequestLine = 8 * 1024
    /// Header section (all field lines): larger → 431.
    public var maxHeaderBytes = 32 * 1024
    /// Header fields: more → 431.
    public var maxHeaderCount = 100
    /// Body after de-chunking: larger → 413 (checked against Content-Length before reading).
    public var maxBody = 1024 * 1024

    public init() {}
}

/// Why a request was refused; `status` is what the server answers before closing.
public struct HTTPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public let status: Int
    public let reason: String

    public var description: String { "\(status): \(reason)" }

    static func badRequest(_ reason: String) -> HTTPParseError { HTTPParseError(status: 400, reason: reason) }
    static let bodyTooLarge = HTTPParseError(status: 413, reason: "request body too large")
    static let uriTooLong = HTTPParseError(status: 414, reason: "request line too long")
    static let headersTooLarge = HTTPParseError(status: 431, reason: "request header fields too large")
    static func notImplemented(_ reason: String) -> HTTPParseError { HTTPParseError(status: 501, reason: reason) }
    static let versionNotSupported = HTTPParseError(status: 505, reason: "HTTP version not supported")
}
