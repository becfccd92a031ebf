/// How the server listens and how long it waits for clients.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind; `nil` binds every address (IPv6 and IPv4).
    public var host: String?
    /// Port to bind; 0 lets the kernel choose (tests).
    public var port: Int
    /// Open connections at most; one more is answered 503 and closed.
    public var maxConnections = 1024
    /// A request whose head and body have not fully arrived this long after its first byte: 408.
    public var requestReadTimeout: Duration = .seconds(10)
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// A response the client does not read for this long: the connection is dropped.
    public var writeTimeout: Duration = .seconds(30)
    /// Event-loop threads; each owns its connections.
    public var eventLoops: Int
    /// The parser's limits.
    public var limits = HTTPLimits()

    public init(host: String? = nil, port: Int, eventLoops: Int = 2) {
        self.host = host
        self.port = port
        self.eventLoops = max(1, eventLoops)
    }
}

/// Handles one complete request. Errors are the handler's to map: the server only adds framing.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse
