import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `/metrics` and `/health` of the daemons, parsed as Prometheus text format after real work.
extension BrokerTests {
@Suite("Metrics")
struct MetricsTests {
    /// One sample line: `name{labels} value`.
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Parses the text exposition format (0.0.4); a line that does not parse fails the test.
    static func parse(_ text: String) -> [Sample] {
        var samples: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let (head, valueText) = (line[..<(line.lastIndex(of: " ") ?? line.endIndex)], line.split(separator: " ").last ?? "")
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : nil) else {
                Issue.record("bad sample line: \(line)")
                continue
            }
            var name = String(head)
            var labels: [String: String] = [:]
            if let brace = head.firstIndex(of: "{"), head.hasSuffix("}") {
                name = String(head[..<brace])
                for pair in head[head.index(after: brace)..<head.index(before: head.endIndex)].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[1].hasPrefix("\""), parts[1].hasSuffix("\"") else {
                        Issue.record("bad label in \(line)")
                        continue
                    }
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        return samples
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    static func port(of daemon: Daemon, after marker: String) -> Int? {
        guard let line = daemon.output.split(separator: "\n").first(where: { $0.contains(marker) }),
            let range = line.range(of: "http.port=")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    @Test func schedulerAndAPIExposeTheirSeriesAfterARun() async throws {
        let fixture = try await DaemonFixture(.sqlite)
        let job = "metrics-\(UUID().uuidString.prefix(6).lowercased())"
        try await fixture.database.createJob(Job(name: job, nextRunAt: Timestamp.now.adding(milliseconds: 500), interval: 1000))
        let worker = try await TestWorker(job: job, url: fixture.amqp) { _ in .completed }
        let scheduler = try Daemon("scheduler", environment: fixture.environment(["SIMPLE_SCHEDULER_METRICS_URL": "127.0.0.1:0"]))
        defer { Task { await scheduler.stop(); await worker.stop() } }
        try await waitUntil(.seconds(30), "a completed run") {
            try await fixture.database.runs(matching: RunQuery(jobNames: [job], statuses: [.completed]), after: nil, limit: 1)
                .items.count == 1
        }
        try await waitUntil(.seconds(10), "the metrics port") { Self.port(of: scheduler, after: "metrics listening") != nil }
        let base = "http://127.0.0.1:\(Self.port(of: scheduler, after: "metrics listening")!)"
        #expect(try await Self.get(base + "/health").0 == 200)
        let (status, text) = try await Self.get(base + "/metrics")
        #expect(status == 200)
        let samples = Self.parse(text)
        let names = Set(samples.map(\.name))
        #expect(samples.contains { $0.name == "simple_scheduler_slots_total" && $0.labels == ["job": job, "fate": "fired"] && $0.value >= 1 })
        #expect(names.contains("simple_scheduler_fire_lateness_seconds_bucket"))
        #expect(samples.contains { $0.name == "simple_scheduler_jobs_held" && $0.value >= 1 })
        #expect(names.contains("simple_scheduler_publish_confirm_seconds_count"))
        #expect(samples.contains { $0.name == "simple_scheduler_database_operation_seconds_count" && $0.labels["operation"] == "recordFires" })
        #expect(samples.contains {
            $0.name == "simple_scheduler_messages_total" && $0.labels == ["kind": "status", "outcome": "applied"] && $0.value >= 2
        })
        #expect(text.contains("# TYPE simple_scheduler_slots_total counter"))

        // The api serves its own, with HTTP requests by route, method and status.
        let (key, keysFile) = try await BrokerTests.APIDaemonTests.createKey(scopes: "jobs:read")
        let (api, apiPort) = try await BrokerTests.APIDaemonTests.startAPI(fixture.environment(["SIMPLE_SCHEDULER_API_KEYS_FILE": keysFile]))
        defer { Task { await api.stop() } }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPort)/api/jobs/\(job)")!)
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        _ = try await URLSession.shared.data(for: request)
        #expect(try await Self.get("http://127.0.0.1:\(apiPort)/health").0 == 200)
        let apiSamples = Self.parse(try await Self.get("http://127.0.0.1:\(apiPort)/metrics").1)
        #expect(apiSamples.contains {
            $0.name == "http_requests_total" && $0.labels == ["route": "/api/jobs/{name}", "method": "GET", "status": "200"]
        })
        #expect(apiSamples.contains { $0.name == "http_request_duration_seconds_bucket" })
    }
}
}
