import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `api` binary over the real adapters: routes end to end, with a scheduler and a worker, so a
/// manual trigger runs and a cancel reaches the worker through the broker.
extension BrokerTests {
@Suite("API daemon")
struct APIDaemonTests {
    struct Client {
        let base: String
        let token: String?

        func send(_ method: String, _ path: String, _ body: String? = nil) async throws -> (status: Int, json: Any?) {
            var request = URLRequest(url: URL(string: base + path)!)
            request.httpMethod = method
            request.timeoutInterval = 20
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            if let body { request.httpBody = Data(body.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as! HTTPURLResponse).statusCode
            return (status, data.isEmpty ? nil : try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        }
    }

    /// Starts `api` on a kernel-chosen port and reads the port from its start-up log line.
    static func startAPI(_ environment: [String: String]) async throws -> (Daemon, Int) {
        let api = try Daemon("api", environment: environment.merging(["SIMPLE_SCHEDULER_API_URL": "127.0.0.1:0"]) { $1 })
        let port = { @Sendable () -> Int? in
            guard let line = api.output.split(separator: "\n").first(where: { $0.contains("listening") }),
                let range = line.range(of: "http.port=")
            else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        do {
            try await waitUntil(.seconds(30), "the api listening") { port() != nil }
        } catch {
            await api.stop()  // not left running after the failed test
            throw error
        }
        return (api, port()!)
    }

    static func createKey(scopes: String) async throws -> (key: String, keysFile: String) {
        let binary = Daemon.binaryDirectory.appendingPathComponent("api").path
        let (status, output) = try await runProgram(binary, ["keys", "create", "--name", "it", "--scopes", scopes])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n")
        let key = String(try #require(lines.first { $0.hasPrefix("key:") }).dropFirst(4).trimmingCharacters(in: .whitespaces))
        let line = String(try #require(lines.first { $0.hasPrefix("line:") }).dropFirst(5).trimmingCharacters(in: .whitespaces))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        try "# test keys\n\(line)\n".write(toFile: file, atomically: true, encoding: .utf8)
        return (key, file)
    }

    @Test(arguments: DaemonBackend.allCases)
    func routesEndToEndWithASchedulerAndAWorker(_ backend: DaemonBackend) async throws {
        let fixture = try await DaemonFixture(backend)
        let (key, keysFile) = try await Self.createKey(scopes: "jobs:read jobs:write runs:read runs:write")
        let environment = fixture.environment(["SIMPLE_SCHEDULER_API_KEYS_FILE": keysFile])
        let job = "api-\(UUID().uuidString.prefix(6).lowercased())"
        let worker = try await TestWorker(job: job, url: fixture.amqp) { action in
            action.action == .cancel ? [.cancelled] : [.running]
        }
        let scheduler = try Daemon("scheduler", environment: environment)
        let (api, port) = try await Self.startAPI(environment)
        defer { Task { await api.stop(); await scheduler.stop(); await worker.stop() } }
        let client = Client(base: "http://127.0.0.1:\(port)", token: key)

        #expect(try await Client(base: client.base, token: nil).send("GET", "/api/jobs").status == 401)
        #expect(try await client.send("GET", "/api/status").status == 200)
        let body = #"{"name":"\#(job)","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","interval":3600000}"#
        #expect(try await client.send("POST", "/api/jobs", body).status == 201)
        #expect(try await client.send("POST", "/api/jobs", body).status == 409)
        #expect(try await client.send("PATCH", "/api/jobs/\(job)", #"{"maxRetries":1}"#).status == 204)
        let read = try await client.send("GET", "/api/jobs/\(job)")
        #expect(read.status == 200)
        #expect((read.json as? [String: Any])?["maxRetries"] as? Int == 1)
        let listed = try await client.send("GET", "/api/jobs?limit=1000")
        #expect((listed.json as? [[String: Any]])?.contains { $0["name"] as? String == job } == true)
        let schedule = try await client.send("GET", "/api/jobs/\(job)/schedule?count=2")
        #expect((schedule.json as? [String: Any])?["next"] as? [String] == ["2030-01-01T00:00:00.000Z", "2030-01-01T01:00:00.000Z"])

        let triggered = try await client.send("POST", "/api/jobs/\(job)/runs")
        #expect(triggered.status == 201)
        let id = try #require((triggered.json as? [String: Any])?["id"] as? String)
        try await waitUntil(.seconds(30), "the manual run running at the worker") {
            let run = try await client.send("GET", "/api/runs/\(id)")
            return (run.json as? [String: Any])?["status"] as? String == "running"
        }
        #expect(try await client.send("POST", "/api/runs/\(id)/cancel").status == 204)
        try await waitUntil(.seconds(30), "the worker's cancelled status") {
            let run = try await client.send("GET", "/api/runs/\(id)")
            return (run.json as? [String: Any])?["status"] as? String == "cancelled"
        }
        #expect(worker.actions.map(\.action) == [.run, .cancel])
        let finished = try await client.send("POST", "/api/runs/\(id)/cancel")
        #expect(finished.status == 204)  // cancelled already
        let runs = try await client.send("GET", "/api/runs?JobName=\(job)&status=cancelled")
        #expect((runs.json as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        #expect(try await client.send("GET", "/api/runs/nothex").status == 400)

        #expect(try await client.send("DELETE", "/api/jobs/\(job)").status == 204)
        #expect(try await client.send("GET", "/api/jobs/\(job)").status == 404)
        api.signal(SIGTERM)
        #expect(try await api.wait(timeout: .seconds(20)) == 0, "\(api.output)")
    }
}
}
