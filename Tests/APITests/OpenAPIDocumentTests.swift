import Foundation
import Logging
import SchedulerCore
import Testing

@testable import API

@Suite struct OpenAPIDocumentTests {
    private var document: [String: Any] {
        get throws { try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any]) }
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() throws {
        let paths = try #require(try document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "patch", "delete"]
        let documented = Set(paths.flatMap { path, item in
            item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" }
        })
        let api = SchedulerAPI(database: InMemoryDatabase(), bus: InMemoryMessageBus(), logger: Logger(label: "test"))
        let routed = Set(api.responder().routeDescriptions)
        #expect(routed.subtracting(documented).isEmpty, "routed but not documented: \(routed.subtracting(documented).sorted())")
        #expect(documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
        #expect(routed.count == 15)
    }

    @Test func isOpenAPI31AndEveryReferenceResolves() throws {
        let document = try self.document
        #expect(document["openapi"] as? String == "3.1.0")
        var references: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { references.append(reference) }
                object.values.forEach(collect)
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(document)
        #expect(references.count > 50)
        for reference in Set(references) {
            var node: Any? = document
            for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
            #expect(node != nil, "unresolved \(reference)")
        }
    }

    @Test func isServedAtItsRoute() async throws {
        let reply = await APIHarness().send("GET", "/api/openapi.json", token: nil)
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "application/json")
        #expect(reply.object["openapi"] as? String == "3.1.0")
    }
}
