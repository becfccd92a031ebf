import HTTPServer

/// API keys (`ssk_…`) go to the keys file, anything else to the OIDC issuer's JWT check.
struct BearerAuthenticator: Authenticator {
    let apiKeys: APIKeys?
    let jwt: JWTVerifier?

    func authenticate(bearer token: String) async throws(HTTPError) -> Identity {
        if token.hasPrefix(APIKeys.prefix) {
            guard let apiKeys else { throw .unauthorized("API keys are not enabled on this server") }
            return try apiKeys.authenticate(token)
        }
        guard let jwt else { throw .unauthorized("only API keys (ssk_…) are accepted by this server") }
        return try await jwt.verify(token)
    }
}
