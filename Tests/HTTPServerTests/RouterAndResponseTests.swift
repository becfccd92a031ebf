import Testing

@testable import HTTPServer

@Suite struct RouterAndResponseTests {
    private func responder() -> Responder {
        var builder = RouterBuilder()
        let ok: RouteHandler = { _, _ in HTTPResponse(status: .ok) }
        builder.add("GET", "/api/jobs", ok)
        builder.add("POST", "/api/jobs", ok)
        builder.add("GET", "/api/jobs/{name}", { _, context in
            HTTPResponse(status: .ok, body: Array((context["name"] ?? "").utf8))
        })
        builder.add("DELETE", "/api/jobs/{name}", ok)
        return builder.build()
    }

    @Test func routesByMethodAndPathWithParametersAndQueries() async throws {
        guard case .found(let handler, let parameters, _) = responder().route(method: "GET", target: "/api/jobs/a%2Db?x=1")
        else { Issue.record("not found"); return }
        #expect(parameters["name"] == "a-b")
        let request = HTTPRequest(method: "GET", target: "/", minorVersion: 1, headers: HTTPHeaders(), body: [])
        #expect(try await handler(request, RequestContext(requestID: "r", parameters: parameters)).body == Array("a-b".utf8))
        guard case .found = responder().route(method: "HEAD", target: "/api/jobs") else {
            Issue.record("HEAD is served by GET")
            return
        }
    }

    @Test func unknownPathIs404AndKnownPathWithOtherMethodIs405WithAllow() {
        guard case .notFound = responder().route(method: "GET", target: "/api/nothing") else {
            Issue.record("expected 404")
            return
        }
        guard case .methodNotAllowed(let allow) = responder().route(method: "PUT", target: "/api/jobs/x") else {
            Issue.record("expected 405")
            return
        }
        #expect(allow == ["DELETE", "GET", "HEAD"])
        guard case .notFound = responder().route(method: "GET", target: "/api/jobs/%zz") else {
            Issue.record("a malformed escape matches nothing")
            return
        }
    }

    @Test func responsesAlwaysCarryContentLengthAndNeverInjectedLines() {
        var headers = HTTPHeaders()
        headers.append(name: "X-Evil", value: "a\r\nSet-Cookie: x")
        headers.append(name: "Content-Length", value: "999")
        let response = HTTPResponse(status: .ok, headers: headers, body: Array("{}".utf8))
        #expect(
            String(decoding: response.serialized(close: true), as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nX-Evil: aSet-Cookie: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        #expect(String(decoding: response.serialized(headOnly: true), as: UTF8.self).hasSuffix("Content-Length: 2\r\n\r\n"))
        #expect(
            String(decoding: HTTPResponse(status: .noContent).serialized(), as: UTF8.self)
                == "HTTP/1.1 204 No Content\r\n\r\n")
    }
}
