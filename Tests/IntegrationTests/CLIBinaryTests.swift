import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// The built `cli` binary against a running `api` (SQLite; these commands never need the broker).
@Suite struct CLIBinaryTests {
    struct CLI {
        let environment: [String: String]

        func run(_ arguments: String...) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await runProgram(Daemon.binaryDirectory.appendingPathComponent("cli").path, arguments, environment: environment)
        }
    }

    @Test func manageJobsAndRunsWithExitCodes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (key, keysFile) = try await BrokerTests.APIDaemonTests.createKey(scopes: "jobs:read jobs:write runs:read runs:write")
        let (api, port) = try await BrokerTests.APIDaemonTests.startAPI([
            "SIMPLE_SCHEDULER_API_KEYS_FILE": keysFile, "SIMPLE_SCHEDULER_DB_TYPE": "sqlite",
            "SIMPLE_SCHEDULER_DB_CONNECTION_STRING": directory.appendingPathComponent("api.db").path,
            "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING": "amqp://guest:guest@127.0.0.1:1/",
        ])
        defer { Task { await api.stop() } }
        let base = ["HOME": directory.path, "XDG_CONFIG_HOME": directory.path, "PATH": "/usr/bin:/bin",
                    "SIMPLE_SCHEDULER_URL": "http://127.0.0.1:\(port)/api"]
        let cli = CLI(environment: base.merging(["SIMPLE_SCHEDULER_TOKEN": key]) { $1 })
        let job = "cli-\(UUID().uuidString.prefix(6).lowercased())"

        let status = try await cli.run("status")
        #expect(status.status == 0 && status.stdout.contains("API OK"), "\(status)")

        let added = try await cli.run("add", "job", "-n", job, "-r", "2030-01-01T00:00:00Z", "-i", "1h", "--max-retries", "2")
        #expect(added.status == 0 && added.stdout == "created job \(job)\n" && added.stderr.isEmpty, "\(added)")
        let again = try await cli.run("add", "job", "-n", job, "-r", "2030-01-01T00:00:00Z")
        #expect(again.status == 1 && again.stdout.isEmpty && again.stderr.contains("exists already"), "\(again)")

        let table = try await cli.run("list", "jobs")
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true && lines.contains { $0.hasPrefix(job) && $0.contains("every 1h") }, "\(table.stdout)")
        let json = try await cli.run("list", "jobs", "-o", "json")
        let jobs = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(jobs?.first { $0["name"] as? String == job }?["maxRetries"] as? Int == 2)

        #expect(try await cli.run("get", "job", job).stdout.contains("every 1h"))
        let updated = try await cli.run("update", "job", job, "--enabled=false")
        #expect(updated.status == 0 && updated.stdout == "updated job \(job)\n", "\(updated)")
        let read = try await cli.run("get", "job", job, "-o", "json")
        let object = try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any]
        #expect(object?["enabled"] as? Bool == false && object?["maxRetries"] as? Int == 2)
        #expect(try await cli.run("trigger", "job", job).stderr.contains("disabled"))
        #expect(try await cli.run("update", "job", "-n", job, "--enabled", "true").status == 0)
        let schedule = try await cli.run("get", "schedule", job, "--count", "2")
        #expect(schedule.stdout.split(separator: "\n").count == 2, "\(schedule)")

        let triggered = try await cli.run("trigger", "job", job, "-o", "json")
        #expect(triggered.status == 0, "\(triggered)")
        let id = try #require((try JSONSerialization.jsonObject(with: Data(triggered.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let runs = try await cli.run("list", "runs", "-j", job)
        #expect(runs.stdout.split(separator: "\n").first?.hasPrefix("ID") == true && runs.stdout.contains(id), "\(runs)")
        #expect(try await cli.run("list", "runs", "-j", job, "-s", "queued", "--limit", "1", "-o", "json").stdout.contains(id))
        #expect(try await cli.run("get", "run", id).stdout.contains("manual"))
        let cancelled = try await cli.run("cancel", "run", id)
        #expect(cancelled.status == 0 && cancelled.stdout == "cancel requested for run \(id)\n", "\(cancelled)")
        #expect(try await cli.run("get", "run", id, "-o", "json").stdout.contains(#""status":"cancelled""#))

        let deleted = try await cli.run("delete", "job", job)
        #expect(deleted.status == 0 && deleted.stdout == "deleted job \(job)\n")
        let gone = try await cli.run("get", "job", job)
        #expect(gone.status == 1 && gone.stderr.contains("no job named"), "\(gone)")
        #expect(try await cli.run("get", "run", "nothex").status == 1)

        // Usage errors: 2. No token: 1 with the API's message and a hint. No API: 1.
        #expect(try await cli.run("add", "job").status == 2)
        #expect(try await cli.run("list", "runs", "-o", "yaml").status == 2)
        #expect(try await cli.run("update", "job", job, "--enabled", "maybe").status == 2)
        let anonymous = try await CLI(environment: base).run("list", "jobs")
        #expect(anonymous.status == 1 && anonymous.stderr.contains("login"), "\(anonymous)")
        let unreachable = try await cli.run("status", "-u", "http://127.0.0.1:1/api")
        #expect(unreachable.status == 1 && unreachable.stderr.contains("cannot reach"), "\(unreachable)")
        let help = try await cli.run("--help")
        #expect(help.status == 0 && help.stdout.contains("simple-scheduler"))
    }
}
