import COpenSSL
import Foundation
import HTTPServer
import Logging
import SchedulerCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// OIDC authorization code flow with PKCE (RFC 7636, S256) for a terminal: a one-shot callback
/// server on `http://localhost:PORT/callback` (the project's own HTTPServer), the browser opened
/// on the authorization URL (which is printed too), `state` and `nonce` checked, the code
/// exchanged for tokens.
struct OIDCLogin {
    let issuer: String
    let clientID: String
    let clientSecret: String?
    let callbackPort: Int
    var timeout: Duration = .seconds(300)
    /// Shows the authorization URL: printed, and opened in a browser unless told otherwise.
    /// Tests stand in for the browser here.
    var present: @Sendable (String) async -> Void = { url in
        FileHandle.standardError.write(Data("Open this URL in a browser to log in:\n  \(url)\n".utf8))
        if ProcessInfo.processInfo.environment["SIMPLE_SCHEDULER_NO_BROWSER"] == nil { OIDCLogin.open(url) }
    }

    func run() async throws -> Credentials {
        let endpoints = try await discover()
        let verifier = randomToken()
        let challenge = base64URL(sha256(Array(verifier.utf8)))
        let state = randomToken()
        let nonce = randomToken()
        let receiver = CallbackReceiver(expectedState: state)
        var router = RouterBuilder()
        router.add("GET", "/callback") { request, _ in await receiver.receive(request) }
        var logger = Logger(label: "login")
        logger.logLevel = .error  // the terminal shows the URL and the outcome, not access logs
        let application = Application(responder: router.build(), authenticator: nil, logger: logger)
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: callbackPort, eventLoops: 1)
        configuration.maxConnections = 16
        let server: HTTPServer
        do {
            server = try HTTPServer(configuration: configuration, handler: application.handler)
        } catch {
            throw CLIError("cannot listen on port \(callbackPort) for the login callback: \(error); try --callback-port")
        }
        let redirect = "http://localhost:\(server.port)/callback"

        var components = URLComponents(string: endpoints.authorization)!
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: clientID),
            URLQueryItem(name: "redirect_uri", value: redirect), URLQueryItem(name: "scope", value: "openid"),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: challenge),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        let url = components.url!.absoluteString
        let present = self.present
        let presenting = Task { await present(url) }
        defer { presenting.cancel() }

        let callback: [String: String]
        do {
            callback = try await receiver.wait(timeout: timeout)
        } catch {
            await server.shutdown(drainTimeout: .seconds(2))
            throw error
        }
        await server.shutdown(drainTimeout: .seconds(2))
        if let error = callback["error"] {
            throw CLIError("the issuer refused the login: \([error, callback["error_description"]].compactMap { $0 }.joined(separator: ": "))")
        }
        guard let code = callback["code"] else { throw CLIError("the login callback carried no code") }

        let endpoint = TokenEndpoint(url: endpoints.token, clientID: clientID, clientSecret: clientSecret)
        let tokens = try await endpoint.request([
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier,
        ])
        // OIDC Core §3.1.3.7: the ID token must carry the nonce this login sent.
        guard let idToken = tokens.idToken, Self.claim("nonce", of: idToken) == nonce else {
            throw CLIError("login refused: the ID token does not carry this login's nonce")
        }
        return Credentials(
            issuer: issuer, clientID: clientID, clientSecret: clientSecret, tokenEndpoint: endpoints.token,
            accessToken: tokens.accessToken, refreshToken: tokens.refreshToken,
            expiresAt: Date().timeIntervalSince1970 + tokens.expiresIn)
    }

    private func discover() async throws -> (authorization: String, token: String) {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let url = URL(string: base + "/.well-known/openid-configuration") else {
            throw CLIError("the issuer '\(issuer)' is not a URL")
        }
        let data: Data
        do {
            (data, _) = try await URLSession.shared.data(from: url)
        } catch {
            throw CLIError("cannot reach the issuer at \(url.absoluteString): \(error.localizedDescription)")
        }
        guard let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let authorization = document["authorization_endpoint"] as? String,
            let token = document["token_endpoint"] as? String
        else { throw CLIError("\(url.absoluteString) is not an OpenID Connect discovery document") }
        return (authorization, token)
    }

    static func open(_ url: String) {
        #if os(macOS)
        let opener = "/usr/bin/open"
        #else
        let opener = "/usr/bin/xdg-open"
        #endif
        guard FileManager.default.isExecutableFile(atPath: opener) else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }

    /// A string claim of a JWT's payload (the signature is not checked: the token came straight
    /// from the token endpoint over the connection we opened).
    static func claim(_ name: String, of token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Data(base64URL: parts[1]),
            let claims = (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any]
        else { return nil }
        return claims[name] as? String
    }
}

/// Waits for the one callback request; refuses (and keeps waiting after) a wrong `state`.
actor CallbackReceiver {
    private let expectedState: String
    private var result: Result<[String: String], Error>?
    private var waiter: CheckedContinuation<[String: String], Error>?

    init(expectedState: String) { self.expectedState = expectedState }

    func receive(_ request: HTTPRequest) -> HTTPResponse {
        var query: [String: String] = [:]
        for item in request.queryItems ?? [] where query[item.name] == nil { query[item.name] = item.value }
        guard result == nil else { return page(.badRequest, "This login has already finished.") }
        guard query["state"] == expectedState else {
            finish(.failure(CLIError("login refused: the callback's state does not match this login (a stale or forged redirect)")))
            return page(.badRequest, "Login refused: the state does not match. Start again with simple-scheduler login.")
        }
        finish(.success(query))
        return query["error"] == nil
            ? page(.ok, "Logged in to Simple Scheduler. You can close this window.")
            : page(.ok, "The login was refused; see the terminal.")
    }

    func wait(timeout: Duration) async throws -> [String: String] {
        if let result { return try result.get() }
        return try await withThrowingTaskGroup(of: [String: String].self) { group in
            group.addTask { try await self.suspend() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw CLIError("no login callback arrived within \(timeout.components.seconds) s")
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
    }

    private func suspend() async throws -> [String: String] {
        if let result { return try result.get() }
        return try await withCheckedThrowingContinuation { waiter = $0 }
    }

    private func finish(_ outcome: Result<[String: String], Error>) {
        result = outcome
        waiter?.resume(with: outcome)
        waiter = nil
    }

    private func page(_ status: HTTPStatus, _ text: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.append(name: "Content-Type", value: "text/html; charset=utf-8")
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return HTTPResponse(status: status, headers: headers,
                            body: Array("<!doctype html><title>Simple Scheduler</title><p>\(escaped)</p>\n".utf8))
    }
}

func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil)
    return digest
}

/// 32 random bytes, base64url: a PKCE verifier (RFC 7636 §4.1), a state or a nonce.
func randomToken() -> String {
    var bytes = [UInt8](repeating: 0, count: 32)
    if RAND_bytes(&bytes, 32) != 1 {
        var generator = SystemRandomNumberGenerator()
        bytes = bytes.map { _ in generator.next() }
    }
    return base64URL(bytes)
}
