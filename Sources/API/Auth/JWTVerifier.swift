import Foundation
import HTTPServer
import SchedulerCore

/// Verifies OIDC access tokens (RFC 7519 JWTs, JWS compact form): signature first, with a key of
/// the issuer, then `iss`, `aud`, `exp` and `nbf`; scopes from `scope`/`scp` and Keycloak roles.
struct JWTVerifier: Sendable {
    let keys: OIDCKeySource
    let issuer: String
    let audience: String?
    /// Clock skew allowed on `exp` and `nbf`, seconds.
    var leeway: Double = 60
    var now: @Sendable () -> Date = { Date() }

    func verify(_ token: String) async throws(HTTPError) -> Identity {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URL: parts[0]), let payloadData = Data(base64URL: parts[1]),
            let signature = Data(base64URL: parts[2]),
            case .object(let header)? = try? JSONDecoder().decode(JSONValue.self, from: headerData),
            case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: payloadData)
        else { throw .unauthorized("the token is not a well-formed JWT") }

        guard case .string(let alg)? = header["alg"], let algorithm = SignatureAlgorithm(rawValue: alg) else {
            throw .unauthorized("the token's algorithm is not accepted; only RS256 and ES256 are")
        }
        guard case .string(let kid)? = header["kid"] else { throw .unauthorized("the token's header has no 'kid'") }
        let key = try await keys.key(for: kid)
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard key.verify(Array(signature), of: signingInput, algorithm: algorithm) else {
            throw .unauthorized("the token's signature does not verify")
        }

        guard case .string(let tokenIssuer)? = claims["iss"], tokenIssuer == issuer else {
            throw .unauthorized("the token was not issued by \(issuer)")
        }
        if let audience {
            let audiences: [String]
            switch claims["aud"] {
            case .string(let value)?: audiences = [value]
            case .array(let values)?: audiences = values.compactMap { if case .string(let v) = $0 { v } else { nil } }
            default: audiences = []
            }
            guard audiences.contains(audience) else { throw .unauthorized("the token is not meant for audience '\(audience)'") }
        }
        let current = now().timeIntervalSince1970
        guard let expiry = Self.seconds(claims["exp"]) else { throw .unauthorized("the token has no 'exp'") }
        guard current <= expiry + leeway else { throw .unauthorized("the token has expired") }
        if let notBefore = Self.seconds(claims["nbf"]), current < notBefore - leeway {
            throw .unauthorized("the token is not valid yet")
        }
        return Identity(subject: Self.subject(claims), scopes: Self.scopes(claims))
    }

    static func seconds(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let number)?: return Double(number)
        case .number(let number)?: return number
        default: return nil
        }
    }

    /// `scope` (space-separated, RFC 8693), `scp` (string or array), and Keycloak's
    /// `realm_access.roles` and `resource_access.<client>.roles`.
    static func scopes(_ claims: [String: JSONValue]) -> Set<String> {
        var scopes: Set<String> = []
        func strings(_ value: JSONValue?) -> [String] {
            switch value {
            case .string(let text)?: return text.split(separator: " ").map(String.init)
            case .array(let values)?: return values.compactMap { if case .string(let v) = $0 { v } else { nil } }
            default: return []
            }
        }
        scopes.formUnion(strings(claims["scope"]))
        scopes.formUnion(strings(claims["scp"]))
        if case .object(let realm)? = claims["realm_access"] { scopes.formUnion(strings(realm["roles"])) }
        if case .object(let clients)? = claims["resource_access"] {
            for case .object(let client) in clients.values { scopes.formUnion(strings(client["roles"])) }
        }
        return scopes
    }

    private static func subject(_ claims: [String: JSONValue]) -> String {
        for name in ["preferred_username", "sub", "azp", "client_id"] {
            if case .string(let value)? = claims[name] { return value }
        }
        return "unknown"
    }
}
