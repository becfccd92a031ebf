import Logging
import Testing

@testable import HTTPServer

/// The middleware chain without sockets: routing errors, authentication, scopes, error mapping.
@Suite struct ApplicationTests {
    struct Tokens: Authenticator {
        func authenticate(bearer token: String) async throws(HTTPError) -> Identity {
            switch token {
            case "reader": return Identity(subject: "reader", scopes: ["things:read"])
            case "writer": return Identity(subject: "writer", scopes: ["things:read", "things:write"])
            default: throw .unauthorized("unknown token")
            }
        }
    }

    struct Unexpected: Error {}

    private let application: Application = {
        var builder = RouterBuilder()
        builder.add("GET", "/open") { _, context in HTTPResponse(status: .ok, body: Array(context.requestID.utf8)) }
        builder.add("GET", "/things/{id}", scopes: ["things:read"]) { _, context in
            guard context["id"] == "1" else { throw HTTPError.notFound("no thing \(context["id"] ?? "")") }
            return HTTPResponse(status: .ok, body: Array((context.identity?.subject ?? "").utf8))
        }
        builder.add("POST", "/things", scopes: ["things:write"]) { _, _ in HTTPResponse(status: .created) }
        builder.add("GET", "/broken") { _, _ in throw Unexpected() }
        return Application(responder: builder.build(), authenticator: Tokens(), logger: Logger(label: "test"))
    }()

    private func send(_ method: String, _ target: String, token: String? = nil, requestID: String? = nil) async -> HTTPResponse {
        var headers = HTTPHeaders()
        if let token { headers.append(name: "Authorization", value: "Bearer \(token)") }
        if let requestID { headers.append(name: "X-Request-Id", value: requestID) }
        return await application.respond(
            to: HTTPRequest(method: method, target: target, minorVersion: 1, headers: headers, body: []))
    }

    private func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func unknownRoutesAndMethodsAreJSONErrors() async {
        let missing = await send("GET", "/nothing?x=1")
        #expect(missing.status == .notFound)
        #expect(text(missing) == #"{"error":"no route for GET /nothing"}"#)
        let wrongMethod = await send("DELETE", "/things")
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers["Allow"] == "POST")
        #expect(text(wrongMethod).hasPrefix(#"{"error":"DELETE is not allowed here"#))
    }

    @Test func requestIDIsEchoedWhenSaneAndGeneratedOtherwise() async {
        #expect(await send("GET", "/open", requestID: "abc-123").headers["X-Request-Id"] == "abc-123")
        let generated = await send("GET", "/open", requestID: "bad id with spaces")
        let id = generated.headers["X-Request-Id"] ?? ""
        #expect(id.count == 16 && id != "bad id with spaces")
        #expect(text(generated) == id)
        let ids = Set(Array(repeating: "", count: 50).map { _ in Application.requestID(from: nil) })
        #expect(ids.count == 50)
        #expect(ids.allSatisfy { $0.utf8.count == 16 && $0.utf8.allSatisfy { "0123456789abcdef".utf8.contains($0) } })
    }

    @Test func scopedRoutesNeedATokenWithEveryScope() async {
        let anonymous = await send("GET", "/things/1")
        #expect(anonymous.status == .unauthorized)
        #expect(anonymous.headers["WWW-Authenticate"] == #"Bearer realm="api""#)
        let bad = await send("GET", "/things/1", token: "forged")
        #expect(bad.status == .unauthorized)
        #expect(bad.headers["WWW-Authenticate"]?.contains("invalid_token") == true)
        #expect(text(bad) == #"{"error":"unknown token"}"#)
        let reader = await send("GET", "/things/1", token: "reader")
        #expect(reader.status == .ok)
        #expect(text(reader) == "reader")
        let underScoped = await send("POST", "/things", token: "reader")
        #expect(underScoped.status == .forbidden)
        #expect(text(underScoped) == #"{"error":"Missing required scopes","missing_scopes":["things:write"]}"#)
        #expect(await send("POST", "/things", token: "writer").status == .created)
    }

    @Test func handlerErrorsMapToTheirStatusAndUnknownOnesToAGeneric500() async {
        let notFound = await send("GET", "/things/2", token: "reader")
        #expect(notFound.status == .notFound)
        #expect(text(notFound) == #"{"error":"no thing 2"}"#)
        let broken = await send("GET", "/broken")
        #expect(broken.status == .internalServerError)
        #expect(!text(broken).contains("Unexpected"))
        #expect(text(broken).hasPrefix(#"{"error":"internal error"#))
    }

    @Test func jsonErrorsEscapeTheirMessage() {
        let response = HTTPResponse.error(.badRequest, "a \"quoted\"\nline\u{1}")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"a \"quoted\"\nline\u0001"}"#)
    }
}
