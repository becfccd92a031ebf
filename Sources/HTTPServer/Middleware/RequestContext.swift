/// Who made a request, as an `Authenticator` established it.
public struct Identity: Hashable, Sendable {
    /// The token's subject or the API key's name, for logs.
    public var subject: String
    public var scopes: Set<String>

    public init(subject: String, scopes: Set<String>) {
        self.subject = subject
        self.scopes = scopes
    }
}

/// What a handler receives besides the request.
public struct RequestContext: Sendable {
    /// The `X-Request-Id` of this request (the client's when it sent a sane one).
    public var requestID: String
    /// The path's `{name}` parameters.
    public var parameters: RouteParameters
    /// The authenticated caller; `nil` on routes that need no scope.
    public var identity: Identity?

    public init(requestID: String, parameters: RouteParameters, identity: Identity? = nil) {
        self.requestID = requestID
        self.parameters = parameters
        self.identity = identity
    }

    public subscript(_ name: String) -> String? { parameters[name] }
}
