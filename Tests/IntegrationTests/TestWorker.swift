import Foundation
import Logging
import Synchronization

@testable import SchedulerCore
import TestSupport

/// A worker speaking the wire protocol over the real broker: for each action it publishes the
/// statuses `replies` gives (by default `running`, then what `outcome` says for a run action,
/// `cancelled` for a cancel), and records every action it saw. It serves any number of jobs
/// through one subscription sink, and like a careful worker it publishes each status again
/// until the broker confirms it (through a broker restart, say).
final class TestWorker: Sendable {
    let bus: RabbitMQBus
    private let task: Task<Void, Never>

    private let seen = ActionLog()

    /// Every action received so far, in order.
    var actions: [ActionMessage] { seen.all }

    convenience init(job: String, url: String, outcome: @escaping @Sendable (ActionMessage) -> RunStatus?) async throws {
        try await self.init(jobs: [job], url: url, outcome: outcome)
    }

    convenience init(jobs: [String], url: String, outcome: @escaping @Sendable (ActionMessage) -> RunStatus?) async throws {
        try await self.init(jobs: jobs, url: url) { action in
            action.action == .cancel ? [.cancelled] : [.running] + (outcome(action).map { [$0] } ?? [])
        }
    }

    convenience init(job: String, url: String, replies: @escaping @Sendable (ActionMessage) -> [RunStatus]) async throws {
        try await self.init(jobs: [job], url: url, replies: replies)
    }

    init(jobs: [String], url: String, replies: @escaping @Sendable (ActionMessage) -> [RunStatus]) async throws {
        let bus = try RabbitMQBus(connectionString: url, logger: Logger(label: "worker"))
        try await bus.waitUntilConnected(timeout: .seconds(20))
        let (deliveries, sink) = AsyncStream<Delivery>.makeStream()
        for job in jobs {
            try await bus.declareTopology(jobName: job)
            _ = try await bus.subscribe(queue: Topology.queue(job, "action"), prefetch: 10, to: sink)
        }
        self.bus = bus
        let seen = self.seen
        task = Task {
            // Each action in a task of its own: a thousand jobs a second each wait for confirms.
            await withDiscardingTaskGroup { group in
                for await delivery in deliveries {
                    group.addTask { await Self.handle(delivery, bus: bus, seen: seen, replies: replies) }
                }
            }
        }
    }

    private static func handle(
        _ delivery: Delivery, bus: RabbitMQBus, seen: ActionLog, replies: @Sendable (ActionMessage) -> [RunStatus]
    ) async {
        guard let action = try? ActionMessage(parsing: delivery.body) else {
            await delivery.ack()
            return
        }
        seen.append(action)
        for status in replies(action) {
            let body = #"{"jobName":"\#(action.jobName)","runId":"\#(action.runID.hex)","status":"\#(status.rawValue)","attempt":\#(action.attempt)}"#
            let message = OutgoingMessage(exchange: Topology.exchange(action.jobName), routingKey: "status", body: Array(body.utf8))
            while !Task.isCancelled, (try? await bus.publish([message])) != [true] {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await delivery.ack()
    }

    func stop() async {
        task.cancel()
        await bus.shutdown()
    }
}

/// A lock-protected list of actions.
final class ActionLog: Sendable {
    private let list = Mutex<[ActionMessage]>([])
    func append(_ action: ActionMessage) { list.withLock { $0.append(action) } }
    var all: [ActionMessage] { list.withLock { $0 } }
}
