import COpenSSL
import Foundation
import HTTPServer
import Logging
import Synchronization
import SchedulerCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import CLI

/// The login flow against an OIDC provider the test runs: its authorization endpoint redirects
/// with a code, its token endpoint checks the PKCE verifier and the client's credentials.
@Suite struct LoginTests {
    final class Provider: Sendable {
        struct State {
            var challenge = ""
            var nonce = ""
            var redirect = ""
            var tokenRequests: [[String: String]] = []
            var authorizations: [String?] = []
            /// Replaces the state the provider sends back (a forged redirect).
            var forgedState: String?
        }

        final class Shared: Sendable {
            let state = Mutex(State())
            let port = Mutex(0)
        }

        let server: HTTPServer
        let issuer: String
        let shared: Shared
        let clientSecret: String?

        init(clientSecret: String? = nil) throws {
            let box = Shared()
            var router = RouterBuilder()
            router.add("GET", "/realms/t/.well-known/openid-configuration") { _, _ in
                let base = "http://127.0.0.1:\(box.port.withLock { $0 })/realms/t"
                return .json(.ok, Array(#"{"issuer":"\#(base)","authorization_endpoint":"\#(base)/auth","token_endpoint":"\#(base)/token"}"#.utf8))
            }
            router.add("GET", "/realms/t/auth") { request, _ in
                let query = Dictionary((request.queryItems ?? []).map { ($0.name, $0.value) }) { a, _ in a }
                guard query["response_type"] == "code", query["code_challenge_method"] == "S256", let redirect = query["redirect_uri"]
                else { return .error(.badRequest, "bad authorization request") }
                let forged = box.state.withLock { state in
                    state.challenge = query["code_challenge"] ?? ""
                    state.nonce = query["nonce"] ?? ""
                    state.redirect = redirect
                    return state.forgedState
                }
                var headers = HTTPHeaders()
                headers.append(name: "Location", value: "\(redirect)?code=the-code&state=\(forged ?? query["state"] ?? "")")
                return HTTPResponse(status: HTTPStatus(302, "Found"), headers: headers)
            }
            router.add("POST", "/realms/t/token") { request, _ in
                let form = Dictionary(
                    String(decoding: request.body, as: UTF8.self).split(separator: "&").map { pair -> (String, String) in
                        let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                        return (parts[0], parts.count > 1 ? parts[1] : "")
                    }) { a, _ in a }
                let (challenge, nonce, redirect) = box.state.withLock { state in
                    state.tokenRequests.append(form)
                    state.authorizations.append(request.headers["Authorization"])
                    return (state.challenge, state.nonce, state.redirect)
                }
                if let clientSecret {
                    let expected = "Basic " + Data("cli:\(clientSecret)".utf8).base64EncodedString()
                    guard request.headers["Authorization"] == expected else {
                        return .json(HTTPStatus(401, "Unauthorized"), Array(#"{"error":"invalid_client"}"#.utf8))
                    }
                }
                switch form["grant_type"] {
                case "authorization_code":
                    let verifier = Array((form["code_verifier"] ?? "").utf8)
                    guard form["code"] == "the-code", form["redirect_uri"] == redirect,
                        SchedulerCore.base64URL(CLI.sha256(verifier)) == challenge
                    else { return .json(.badRequest, Array(#"{"error":"invalid_grant","error_description":"PKCE"}"#.utf8)) }
                    let idToken = "e30." + SchedulerCore.base64URL(Array(#"{"nonce":"\#(nonce)","sub":"u"}"#.utf8)) + ".sig"
                    return .json(.ok, Array(#"{"access_token":"at-1","refresh_token":"rt-1","expires_in":1,"id_token":"\#(idToken)"}"#.utf8))
                case "refresh_token":
                    guard form["refresh_token"] == "rt-1" else { return .json(.badRequest, Array(#"{"error":"invalid_grant"}"#.utf8)) }
                    return .json(.ok, Array(#"{"access_token":"at-2","refresh_token":"rt-2","expires_in":3600}"#.utf8))
                default:
                    return .json(.badRequest, Array(#"{"error":"unsupported_grant_type"}"#.utf8))
                }
            }
            let application = Application(responder: router.build(), authenticator: nil, logger: Logger(label: "provider"))
            server = try HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), handler: application.handler)
            let bound = server.port
            box.port.withLock { $0 = bound }
            issuer = "http://127.0.0.1:\(bound)/realms/t"
            self.clientSecret = clientSecret
            self.shared = box
        }
    }

    /// Follows the authorization URL the way a browser would: the provider's redirect lands on
    /// the CLI's callback server.
    static let browser: @Sendable (String) async -> Void = { url in
        _ = try? await URLSession.shared.data(from: URL(string: url)!)
    }

    private func temporaryStore() throws -> CredentialStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-config-\(UUID().uuidString)")
        return CredentialStore(environment: ["XDG_CONFIG_HOME": directory.path])
    }

    private func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func publicClientLoginStoresTokensPrivatelyAndRefreshesWhenExpired() async throws {
        let provider = try Provider()
        var login = OIDCLogin(issuer: provider.issuer, clientID: "cli", clientSecret: nil, callbackPort: 0)
        login.present = Self.browser
        let credentials = try await login.run()
        #expect(credentials.accessToken == "at-1" && credentials.refreshToken == "rt-1")
        let first = try #require(provider.shared.state.withLock { $0.tokenRequests.first })
        #expect(first["client_id"] == "cli" && first["grant_type"] == "authorization_code")

        let store = try temporaryStore()
        try store.save(credentials)
        #expect(try mode(store.file.path) == 0o600)
        #expect(try mode(store.directory.path) == 0o700)
        #expect(try store.load() == credentials)

        // The access token expires within 30 s: the refresh token is used before the request.
        let token = try await store.validAccessToken()
        #expect(token == "at-2")
        #expect(provider.shared.state.withLock { $0.tokenRequests.last?["grant_type"] } == "refresh_token")
        #expect(try store.load()?.refreshToken == "rt-2")
        #expect(try mode(store.file.path) == 0o600)
        #expect(try await store.validAccessToken() == "at-2")  // fresh now: no second refresh
        #expect(provider.shared.state.withLock { $0.tokenRequests.count } == 2)
        #expect(try store.remove())
        #expect(try await store.validAccessToken() == nil)
        await provider.server.shutdown()
    }

    @Test func confidentialClientAuthenticatesWithItsSecret() async throws {
        let provider = try Provider(clientSecret: "s3cret")
        var login = OIDCLogin(issuer: provider.issuer, clientID: "cli", clientSecret: "s3cret", callbackPort: 0)
        login.present = Self.browser
        #expect(try await login.run().accessToken == "at-1")
        #expect(provider.shared.state.withLock { $0.tokenRequests.first?["client_id"] } == nil)

        var wrong = OIDCLogin(issuer: provider.issuer, clientID: "cli", clientSecret: "guess", callbackPort: 0)
        wrong.present = Self.browser
        await #expect(throws: CLIError.self) { try await wrong.run() }
        await provider.server.shutdown()
    }

    @Test func aCallbackWithAnotherStateIsRefused() async throws {
        let provider = try Provider()
        provider.shared.state.withLock { $0.forgedState = "attacker-state" }
        var login = OIDCLogin(issuer: provider.issuer, clientID: "cli", clientSecret: nil, callbackPort: 0)
        login.present = Self.browser
        do {
            _ = try await login.run()
            Issue.record("a forged state was accepted")
        } catch let error as CLIError {
            #expect(error.message.contains("state does not match"))
        }
        #expect(provider.shared.state.withLock { $0.tokenRequests.isEmpty })  // the code was never redeemed
        await provider.server.shutdown()
    }

    @Test func anExpiredLoginWithoutARefreshTokenSaysSo() async throws {
        let store = try temporaryStore()
        try store.save(Credentials(issuer: "i", clientID: "c", clientSecret: nil, tokenEndpoint: "http://127.0.0.1:1/token",
                                   accessToken: "old", refreshToken: nil, expiresAt: 0))
        await #expect(throws: CLIError.self) { _ = try await store.validAccessToken() }
    }
}
