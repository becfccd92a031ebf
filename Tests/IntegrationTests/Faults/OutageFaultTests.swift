import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// A free loopback TCP port, as the kernel picks one.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw DaemonError(description: "cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A private SecantusDB on an on-disk directory, so a test can stop and restart it with its data.
final class SecantusServer: @unchecked Sendable {
    let port: Int
    let directory: String
    private var process: Daemon?

    init() throws {
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secantus-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A short server selection timeout, so an outage turns into errors quickly.
    var url: String { "mongodb://127.0.0.1:\(port)/?serverSelectionTimeoutMS=1500&connectTimeoutMS=1500" }

    func start() async throws {
        let binary = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_SECANTUS")
        process = try Daemon(
            binary, environment: [:],
            arguments: ["--host", "127.0.0.1", "--port", "\(port)", "--storage-path", directory])
        let url = self.url
        try await waitUntil(.seconds(60), "SecantusDB on port \(port)") {
            let probe = try MongoDatabase(connectionString: url, databaseName: "probe", logger: Logger(label: "probe"))
            return (try? await probe.now()) != nil
        }
    }

    /// Stops it (SIGTERM, then SIGKILL after 20 s).
    func stop() async {
        guard let process else { return }
        process.signal(SIGTERM)
        if (try? await process.wait(timeout: .seconds(20))) == nil { await process.stop() }
        self.process = nil
    }
}

/// Outages of the broker and the database under running daemons.
extension BrokerTests {
@Suite("Faults: broker and database outages")
struct OutageFaultTests {
    /// Disables the jobs, then waits until no run is left between queued and final.
    static func drain(_ database: any Database, _ names: [String]) async throws -> [Run] {
        for name in names { _ = try await database.updateJob(named: name, JobPatch(enabled: false)) }
        return try await poll(.seconds(90), "every run to end", every: .milliseconds(250)) {
            let open = try await database.runs(
                matching: RunQuery(jobNames: names, statuses: [.queued, .pending, .running, .cancelling]),
                after: nil, limit: nil
            ).items
            return open.isEmpty ? open : nil
        }
    }

    /// Issue 10 (3): the broker restarts (gracefully, or killed) while the scheduler fires and the
    /// worker reports: every run's action is delivered, every status applied, no run stuck.
    @Test(arguments: ["restart", "kill"])
    func aBrokerRestartMidDispatchLosesNothing(_ how: String) async throws {
        let control = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_BROKER_CTL")
        let fixture = try await DaemonFixture(.sqlite)
        let database = fixture.database
        let prefix = "broker-\(UUID().uuidString.prefix(4).lowercased())"
        let names = (0..<20).map { "\(prefix)-\($0)" }
        let first = Timestamp.now.adding(milliseconds: 3000)
        for name in names { try await database.createJob(Job(name: name, nextRunAt: first, interval: 1000)) }
        let worker = try await TestWorker(jobs: names, url: fixture.amqp) { _ in .completed }
        let scheduler = try Daemon("scheduler", environment: fixture.environment())
        let custodian = try Daemon("custodian", environment: fixture.environment())
        try await waitUntil(.seconds(60), "runs completing") {
            try await database.runs(matching: RunQuery(jobNames: names, statuses: [.completed]), after: nil, limit: nil)
                .items.count >= 40
        }
        if how == "restart" {
            #expect(try await runProgram(control, ["restart"]).status == 0)
        } else {
            #expect(try await runProgram(control, ["kill"]).status == 0)
            try await Task.sleep(for: .seconds(3))
            #expect(try await runProgram(control, ["start"]).status == 0)
        }
        let back = Timestamp.now
        try await waitUntil(.seconds(60), "runs completing after the broker came back") {
            try await database.runs(matching: RunQuery(jobNames: names, statuses: [.completed]), after: nil, limit: nil)
                .items.contains { $0.createdTime > back.adding(milliseconds: 2000) }
        }
        try await Task.sleep(for: .seconds(3))
        let open = try await Self.drain(database, names)
        let runs = try await database.runs(matching: RunQuery(jobNames: names), after: nil, limit: nil).items
        let delivered = Set(worker.actions.map(\.runID))
        let completed = runs.filter { $0.status == .completed }
        let audit = try await SlotAudit(database: database, names: names, first: first, interval: 1000)
        for daemon in [scheduler, custodian] {
            daemon.signal(SIGTERM)
            #expect(try await daemon.wait() == 0, "\(daemon.name): \(daemon.output.suffix(2000))")
        }
        await worker.stop()
        let notCompleted = runs.filter { $0.status != .completed && $0.status != .skipped }
        FaultPlan.report("broker-\(how)", [
            "runs": "\(runs.count)", "completed": "\(completed.count)", "skipped": "\(runs.count { $0.status == .skipped })",
            "stuck": "\(open.count)", "other": "\(notCompleted.count)", "duplicates": "\(audit.duplicates)", "lost": "\(audit.lost)",
        ])
        #expect(open.isEmpty)
        #expect(notCompleted.isEmpty, "\(notCompleted.prefix(5))")
        #expect(completed.allSatisfy { delivered.contains($0.id) })
        #expect(audit.duplicates == 0 && audit.lost == 0, "\(audit)")
    }

    /// Issue 10 (4): the database goes away for 10 s and comes back with its data: the daemons stay
    /// up and log the outage once, the API answers 503 with a JSON error meanwhile, and then
    /// everything resumes with every slot accounted for.
    @Test func aTenSecondDatabaseOutage() async throws {
        let server = try SecantusServer()
        try await server.start()
        let name = "outage_\(UUID().uuidString.prefix(8))"
        let database = try MongoDatabase(connectionString: server.url, databaseName: name, logger: Logger(label: "test"))
        try await database.prepare()
        let amqp = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL")
        let (key, keysFile) = try await APIDaemonTests.createKey(scopes: "jobs:read jobs:write runs:read runs:write")
        let environment = [
            "SIMPLE_SCHEDULER_DB_TYPE": "mongodb", "SIMPLE_SCHEDULER_DB_CONNECTION_STRING": server.url,
            "SIMPLE_SCHEDULER_DB_NAME": name, "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING": amqp,
            "SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL": "500", "SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": "3000",
            "SIMPLE_SCHEDULER_CLEANUP_INTERVAL": "500", "SIMPLE_SCHEDULER_LOG_LEVEL": "info",
            "SIMPLE_SCHEDULER_API_KEYS_FILE": keysFile,
        ]
        let prefix = "dbout-\(UUID().uuidString.prefix(4).lowercased())"
        let names = (0..<5).map { "\(prefix)-\($0)" }
        let first = Timestamp.now.adding(milliseconds: 3000)
        for job in names { try await database.createJob(Job(name: job, nextRunAt: first, interval: 1000)) }
        let worker = try await TestWorker(jobs: names, url: amqp) { _ in .completed }
        let scheduler = try Daemon("scheduler", environment: environment)
        let custodian = try Daemon("custodian", environment: environment)
        let (api, port) = try await APIDaemonTests.startAPI(environment)
        let client = APIDaemonTests.Client(base: "http://127.0.0.1:\(port)", token: key)
        try await waitUntil(.seconds(60), "runs completing") {
            try await database.runs(matching: RunQuery(jobNames: names, statuses: [.completed]), after: nil, limit: nil)
                .items.count >= 10
        }

        await server.stop()
        let outageStart = ContinuousClock.now
        var answers: [Int: Int] = [:]
        var nonJSON = 0
        while ContinuousClock.now - outageStart < .seconds(10) {
            let (status, json) = try await client.send("GET", "/api/jobs")
            answers[status, default: 0] += 1
            if status != 200, (json as? [String: Any])?["error"] as? String == nil { nonJSON += 1 }
            for daemon in [scheduler, custodian, api] {
                var status: Int32 = 0
                #expect(waitpid(daemon.pid, &status, WNOHANG) == 0, "\(daemon.name) exited during the outage")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        try await server.start()
        let back = Timestamp.now
        try await waitUntil(.seconds(60), "runs completing after the outage") {
            try await database.runs(matching: RunQuery(jobNames: names, statuses: [.completed]), after: nil, limit: nil)
                .items.contains { $0.createdTime > back.adding(milliseconds: 2000) }
        }
        #expect(try await client.send("GET", "/api/jobs").status == 200)
        let open = try await Self.drain(database, names)
        let audit = try await SlotAudit(database: database, names: names, first: first, interval: 1000)
        for daemon in [scheduler, custodian, api] {
            daemon.signal(SIGTERM)
            #expect(try await daemon.wait(timeout: .seconds(30)) == 0, "\(daemon.name): \(daemon.output.suffix(2000))")
        }
        await worker.stop()
        await server.stop()
        let outageLines = [scheduler, custodian, api].map { $0.output.components(separatedBy: "database unavailable; retrying").count - 1 }
        let recoveryLines = [scheduler, custodian, api].map { $0.output.components(separatedBy: "database available again").count - 1 }
        FaultPlan.report("database-outage", [
            "api_answers": "\(answers.sorted { $0.key < $1.key })", "api_non_json_errors": "\(nonJSON)",
            "outage_lines": "\(outageLines)", "recovery_lines": "\(recoveryLines)", "stuck": "\(open.count)",
            "duplicates": "\(audit.duplicates)", "lost": "\(audit.lost)",
        ])
        #expect(Set(answers.keys) == [503], "answers during the outage: \(answers)")
        #expect(nonJSON == 0)
        #expect(outageLines == [1, 1, 1], "each daemon logs the outage once")
        #expect(recoveryLines == [1, 1, 1], "and its end once")
        #expect(open.isEmpty)
        #expect(audit.duplicates == 0 && audit.lost == 0, "\(audit)")
    }
}
}
