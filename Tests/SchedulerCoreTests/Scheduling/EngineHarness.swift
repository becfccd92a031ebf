import Foundation
import Logging
import Synchronization
import Testing

@testable import SchedulerCore
import TestSupport

/// A scheduler engine on the in-memory database and bus, driven by a manual clock.
final class EngineHarness: Sendable {
    let clock = ManualClock(.test(0))
    let database: InMemoryDatabase
    let bus = InMemoryMessageBus()
    let engine: SchedulerEngine
    private let task: Mutex<Task<Void, Error>?> = Mutex(nil)

    init(settings: SchedulerEngine.Settings = EngineHarness.settings) {
        let clock = self.clock
        database = InMemoryDatabase(clock: { clock.now() })
        var logger = Logger(label: "engine")
        logger.logLevel = .critical
        engine = SchedulerEngine(database: database, bus: bus, clock: clock, settings: settings, logger: logger)
    }

    /// Long leases: unit tests jump the manual clock, and the fence must not trip on that.
    static let settings: SchedulerEngine.Settings = {
        var settings = SchedulerEngine.Settings(
            heartbeatInterval: 1000, heartbeatTimeout: 3_600_000, cleanupInterval: 1000, cacheRefreshInterval: 60_000)
        settings.outboxInterval = 1000
        return settings
    }()

    /// Starts the engine and waits until it has registered beside `otherManagers` registered before.
    func start(otherManagers: Int = 0) async throws {
        let engine = self.engine
        task.withLock { $0 = Task { try await engine.run() } }
        try await eventually { try await self.database.managers().count == otherManagers + 1 }
    }

    func stop() async throws {
        let running = task.withLock { $0 }
        running?.cancel()
        _ = try? await running?.value
    }

    /// Moves the clock in steps (so every loop gets its turn) up to `seconds` after the start.
    func advance(to seconds: Double, step: Int64 = 250) async throws {
        let target = Timestamp.test(0).adding(milliseconds: Int64(seconds * 1000))
        while clock.now() < target {
            clock.advance(to: min(target, clock.now().adding(milliseconds: step)))
            try await Task.sleep(for: .milliseconds(2))
        }
        try await Task.sleep(for: .milliseconds(20))
    }

    func runs(_ job: String) async throws -> [Run] {
        try await database.runs(matching: RunQuery(jobNames: [job]), after: nil, limit: nil).items.reversed()
    }

    /// A worker: reads the job's action queue.
    func worker(_ job: String) async throws -> DeliveryReader {
        try await bus.declareTopology(jobName: job)
        return DeliveryReader(try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 100))
    }

    func report(_ job: String, _ run: RunID, _ status: String, attempt: Int? = nil) async throws {
        let attemptField = attempt.map { #","attempt":\#($0)"# } ?? ""
        let body = #"{"jobName":"\#(job)","runId":"\#(run.hex)","status":"\#(status)"\#(attemptField)}"#
        _ = try await bus.publish([OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: Array(body.utf8))])
    }

    func heartbeat(_ job: String, _ run: RunID) async throws {
        let body = #"{"jobName":"\#(job)","runId":"\#(run.hex)"}"#
        _ = try await bus.publish([OutgoingMessage(exchange: Topology.exchange(job), routingKey: "heartbeat", body: Array(body.utf8))])
    }
}

extension Delivery {
    var action: ActionMessage { get throws { try ActionMessage(parsing: body) } }
}
