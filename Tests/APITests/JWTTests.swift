import Foundation
import HTTPServer
import Logging
import SchedulerCore
import Synchronization
import Testing

@testable import API

/// The JWT matrix of issue 5 against an issuer whose discovery document and JWKS are served by
/// the project's own HTTP server on a loopback port.
@Suite struct JWTTests {
    /// A fake OIDC issuer: discovery and a JWKS that can be rotated; counts JWKS fetches.
    final class Issuer: Sendable {
        final class State: Sendable {
            let keys: Mutex<[[String: String]]>
            let port = Mutex(0)
            let fetches = Atomic<Int>(0)

            init(_ keys: [TestSigningKey]) { self.keys = Mutex(keys.map(\.jwk)) }
        }

        let server: HTTPServer
        let url: String
        private let state: State

        init(keys: [TestSigningKey]) throws {
            let state = State(keys)
            var router = RouterBuilder()
            router.add("GET", "/realms/test/.well-known/openid-configuration") { _, _ in
                let base = "http://127.0.0.1:\(state.port.withLock { $0 })/realms/test"
                return .json(.ok, Array(#"{"issuer":"\#(base)","jwks_uri":"\#(base)/certs"}"#.utf8))
            }
            router.add("GET", "/realms/test/certs") { _, _ in
                state.fetches.add(1, ordering: .relaxed)
                let body = try JSONSerialization.data(withJSONObject: ["keys": state.keys.withLock { $0 }])
                return .json(.ok, Array(body))
            }
            let application = Application(responder: router.build(), authenticator: nil, logger: Logger(label: "issuer"))
            server = try HTTPServer(
                configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), handler: application.handler)
            let port = server.port
            state.port.withLock { $0 = port }
            url = "http://127.0.0.1:\(port)/realms/test"
            self.state = state
        }

        var fetchCount: Int { state.fetches.load(ordering: .relaxed) }

        func publish(_ keys: [TestSigningKey]) { state.keys.withLock { $0 = keys.map(\.jwk) } }
    }

    static let rsa = TestSigningKey.rsa(kid: "rsa-1")
    static let ec = TestSigningKey.p256(kid: "ec-1")

    /// A clock the test moves by hand, so rate limits are tested without sleeping.
    final class TestClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex(Duration.zero)
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
        func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
    }

    private func harness(
        _ issuer: Issuer, audience: String? = nil, refetchInterval: Duration = .seconds(10), clock: TestClock = TestClock()
    ) -> APIHarness {
        let source = OIDCKeySource(
            issuer: issuer.url, refetchInterval: refetchInterval, logger: Logger(label: "jwks"), now: { clock.now })
        return APIHarness(jwt: JWTVerifier(keys: source, issuer: issuer.url, audience: audience))
    }

    private func claims(_ issuer: Issuer, _ extra: [String: Any] = [:]) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = [
            "iss": issuer.url, "sub": "user-1", "exp": now + 300, "iat": now, "scope": "openid jobs:read",
        ]
        for (key, value) in extra { claims[key] = value }
        return claims
    }

    private func status(_ api: APIHarness, _ token: String) async -> (Int, String) {
        let reply = await api.send("GET", "/api/jobs", token: token)
        return (reply.status, reply.text)
    }

    @Test func validRS256AndES256TokensAreAccepted() async throws {
        let issuer = try Issuer(keys: [Self.rsa, Self.ec])
        let api = harness(issuer)
        #expect(await status(api, Self.rsa.token(claims(issuer))).0 == 200)
        #expect(await status(api, Self.ec.token(claims(issuer))).0 == 200)
        #expect(issuer.fetchCount == 1)  // keys are cached
        await issuer.server.shutdown()
    }

    @Test func unsignedAndAlgorithmConfusionTokensAreRefused() async throws {
        let issuer = try Issuer(keys: [Self.rsa])
        let api = harness(issuer)
        let payload = Self.rsa.encode(claims(issuer))
        let none = Self.rsa.encode(["alg": "none", "kid": "rsa-1"]) + "." + payload + "."
        let (noneStatus, noneBody) = await status(api, none)
        #expect(noneStatus == 401)
        #expect(noneBody.contains("only RS256 and ES256"))
        // HS256 "signed" with the RSA public key: a verifier that trusted `alg` would accept it.
        let input = Self.rsa.encode(["alg": "HS256", "kid": "rsa-1"]) + "." + payload
        let forged = input + "." + base64URL(Data(hmacSHA256(key: Self.rsa.publicKeyBytes, message: Array(input.utf8))))
        #expect(await status(api, forged).0 == 401)
        // An ES256 header on an RSA kid, and a payload changed after signing.
        let mixed = Self.rsa.token(claims(issuer), header: ["alg": "ES256", "kid": "rsa-1"])
        #expect(await status(api, mixed).0 == 401)
        let genuine = Self.rsa.token(claims(issuer)).split(separator: ".")
        let tampered = [genuine[0], Substring(Self.rsa.encode(claims(issuer, ["scope": "jobs:read jobs:write"]))), genuine[2]]
        let (tamperedStatus, tamperedBody) = await status(api, tampered.joined(separator: "."))
        #expect(tamperedStatus == 401)
        #expect(tamperedBody.contains("signature does not verify"))
        #expect(await status(api, "not.a.jwt").0 == 401)
        await issuer.server.shutdown()
    }

    @Test func anUnknownKidIsFetchedAtMostOncePerIntervalThenRotatedIn() async throws {
        let rotated = TestSigningKey.rsa(kid: "rsa-2")
        let issuer = try Issuer(keys: [Self.rsa])
        let clock = TestClock()
        let api = harness(issuer, refetchInterval: .seconds(10), clock: clock)
        let token = rotated.token(claims(issuer))
        #expect(await status(api, Self.rsa.token(claims(issuer))).0 == 200)
        #expect(issuer.fetchCount == 1)
        // Unknown kids right after a fetch: refused without asking the issuer again.
        for _ in 0..<3 { #expect(await status(api, token).0 == 401) }
        #expect(issuer.fetchCount == 1)
        clock.advance(.seconds(11))
        #expect(await status(api, token).0 == 401)  // fetched again; the issuer does not have it yet
        #expect(issuer.fetchCount == 2)
        issuer.publish([Self.rsa, rotated])
        #expect(await status(api, token).0 == 401)  // within the interval: no fetch
        #expect(issuer.fetchCount == 2)
        clock.advance(.seconds(9))
        #expect(await status(api, token).0 == 401)  // 9 s later: still within the interval
        #expect(issuer.fetchCount == 2)
        clock.advance(.seconds(2))
        #expect(await status(api, token).0 == 200)  // rotated in
        #expect(issuer.fetchCount == 3)
        #expect(await status(api, Self.rsa.token(claims(issuer))).0 == 200)
        await issuer.server.shutdown()
    }

    @Test func expiryAndNotBeforeHaveSixtySecondsOfLeeway() async throws {
        let issuer = try Issuer(keys: [Self.ec])
        let api = harness(issuer)
        let now = Int(Date().timeIntervalSince1970)
        let (expired, expiredBody) = await status(api, Self.ec.token(claims(issuer, ["exp": now - 120])))
        #expect(expired == 401)
        #expect(expiredBody.contains("expired"))
        #expect(await status(api, Self.ec.token(claims(issuer, ["exp": now - 30]))).0 == 200)
        let (early, earlyBody) = await status(api, Self.ec.token(claims(issuer, ["nbf": now + 120])))
        #expect(early == 401)
        #expect(earlyBody.contains("not valid yet"))
        #expect(await status(api, Self.ec.token(claims(issuer, ["nbf": now + 30]))).0 == 200)
        var noExpiry = claims(issuer)
        noExpiry["exp"] = nil
        #expect(await status(api, Self.ec.token(noExpiry)).0 == 401)
        await issuer.server.shutdown()
    }

    @Test func issuerAndAudienceMustMatch() async throws {
        let issuer = try Issuer(keys: [Self.rsa])
        let api = harness(issuer, audience: "simple-scheduler")
        let (wrongIssuer, body) = await status(api, Self.rsa.token(claims(issuer, ["iss": issuer.url + "/", "aud": "simple-scheduler"])))
        #expect(wrongIssuer == 401)
        #expect(body.contains("not issued by"))
        #expect(await status(api, Self.rsa.token(claims(issuer, ["aud": "someone-else"]))).0 == 401)
        #expect(await status(api, Self.rsa.token(claims(issuer))).0 == 401)  // no aud at all
        #expect(await status(api, Self.rsa.token(claims(issuer, ["aud": ["account", "simple-scheduler"]]))).0 == 200)
        #expect(await status(api, Self.rsa.token(claims(issuer, ["aud": "simple-scheduler"]))).0 == 200)
        await issuer.server.shutdown()
    }

    @Test func scopesComeFromScopeScpAndKeycloakRoles() async throws {
        let issuer = try Issuer(keys: [Self.rsa])
        let api = harness(issuer)
        let (missing, body) = await status(api, Self.rsa.token(claims(issuer, ["scope": "openid profile"])))
        #expect(missing == 403)
        #expect(body == #"{"error":"Missing required scopes","missing_scopes":["jobs:read"]}"#)
        var roles = claims(issuer)
        roles["scope"] = nil
        roles["realm_access"] = ["roles": ["offline_access", "jobs:read"]]
        #expect(await status(api, Self.rsa.token(roles)).0 == 200)
        roles["realm_access"] = nil
        roles["resource_access"] = ["simple-scheduler": ["roles": ["jobs:read"]], "account": ["roles": ["view-profile"]]]
        #expect(await status(api, Self.rsa.token(roles)).0 == 200)
        roles["resource_access"] = nil
        roles["scp"] = ["jobs:read"]
        #expect(await status(api, Self.rsa.token(roles)).0 == 200)
        await issuer.server.shutdown()
    }

    @Test func anUnreachableIssuerIs503NotA500() async throws {
        let issuer = try Issuer(keys: [Self.rsa])
        let token = Self.rsa.token(claims(issuer))
        let api = harness(issuer)
        await issuer.server.shutdown()
        let reply = await api.send("GET", "/api/jobs", token: token)
        #expect(reply.status == 503)
        #expect(reply.error?.contains("cannot reach the token issuer") == true)
        // Right after, within the refetch interval: still our outage, not a bad token (was a 401).
        let again = await api.send("GET", "/api/jobs", token: token)
        #expect(again.status == 503)
        #expect(again.error?.contains("cannot reach the token issuer") == true)
    }

    @Test func apiKeysValidInvalidAndUnderScoped() async throws {
        let issuer = try Issuer(keys: [Self.rsa])
        let api = harness(issuer)
        #expect(await status(api, APIHarness.reader).0 == 200)
        #expect(await status(api, "ssk_not-a-key").0 == 401)
        let underScoped = await api.send("DELETE", "/api/jobs/x", token: APIHarness.reader)
        #expect(underScoped.status == 403)
        #expect(underScoped.text.contains(#""missing_scopes":["jobs:write"]"#))
        #expect(issuer.fetchCount == 0)  // API keys never touch the issuer
        await issuer.server.shutdown()
    }

    @Test func keysFileFormatAndCreatedKeysVerify() throws {
        let created = try APIKeys.create(name: "deploy-bot", scopes: ["jobs:read", "runs:write"])
        #expect(created.key.hasPrefix("ssk_"))
        #expect(!created.line.contains(created.key))  // only the hash is written down
        let keys = try APIKeys(parsing: "# machines\n\n\(created.line)  # the deploy bot\n")
        let identity = try keys.authenticate(created.key)
        #expect(identity.scopes == ["jobs:read", "runs:write"])
        #expect(throws: HTTPError.self) { try keys.authenticate(created.key + "x") }
        #expect(throws: APIKeys.FileError.self) { try APIKeys(parsing: "bot deadbeef jobs:read") }
        #expect(throws: APIKeys.FileError.self) { try APIKeys(parsing: "bot \(String(repeating: "a", count: 64))") }
    }
}
