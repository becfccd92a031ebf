/// Turns a bearer token into an identity, or refuses it with a 401 (or 503 when the source of
/// keys cannot be reached). It never decides about scopes: the application does.
public protocol Authenticator: Sendable {
    func authenticate(bearer token: String) async throws(HTTPError) -> Identity
}
