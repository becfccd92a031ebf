import Foundation
import HTTPServer
import Logging
import SchedulerCore

@testable import API

/// The API's application over an in-memory database and bus, driven without sockets.
struct APIHarness {
    static let writer = "ssk_writer"
    static let reader = "ssk_reader"

    let database: any Database
    let bus: InMemoryMessageBus
    let application: Application

    init(database: any Database = InMemoryDatabase(), jwt: JWTVerifier? = nil) {
        self.database = database
        bus = InMemoryMessageBus()
        let keys = APIKeys(entries: [
            .init(name: "writer", hash: APIKeys.sha256(Array(Self.writer.utf8)),
                  scopes: ["jobs:read", "jobs:write", "runs:read", "runs:write"]),
            .init(name: "reader", hash: APIKeys.sha256(Array(Self.reader.utf8)), scopes: ["jobs:read", "runs:read"]),
        ])
        let api = SchedulerAPI(database: database, bus: bus, logger: Logger(label: "api-test"))
        application = Application(
            responder: api.responder(), authenticator: BearerAuthenticator(apiKeys: keys, jwt: jwt),
            logger: Logger(label: "api-test"))
    }

    struct Reply {
        var response: HTTPResponse
        var status: Int { response.status.code }
        var text: String { String(decoding: response.body, as: UTF8.self) }
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        var error: String? { object["error"] as? String }
        func header(_ name: String) -> String? { response.headers[name] }
    }

    @discardableResult
    func send(_ method: String, _ target: String, _ body: String? = nil, token: String? = Self.writer) async -> Reply {
        var headers = HTTPHeaders()
        if let token { headers.append(name: "Authorization", value: "Bearer \(token)") }
        let request = HTTPRequest(
            method: method, target: target, minorVersion: 1, headers: headers, body: Array((body ?? "").utf8))
        return Reply(response: await application.respond(to: request))
    }

    /// Creates an interval job due far in the future.
    func createJob(_ name: String, extra: String = "") async {
        await send("POST", "/api/jobs", #"{"name":"\#(name)","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","interval":60000\#(extra)}"#)
    }
}
