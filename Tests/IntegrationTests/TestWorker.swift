import Foundation
import Logging
import Synchronization

@testable import SchedulerCore
import TestSupport

/// A worker speaking the wire protocol over the real broker: for each action it publishes the
/// statuses `replies` gives (by default `running`, then what `outcome` says for a run action,
/// `cancelled` for a cancel), and records every action it saw.
final class TestWorker: Sendable {
    let bus: RabbitMQBus
    private let task: Task<Void, Never>

    private let seen = ActionLog()

    /// Every action received so far, in order.
    var actions: [ActionMessage] { seen.all }

    convenience init(job: String, url: String, outcome: @escaping @Sendable (ActionMessage) -> RunStatus?) async throws {
        try await self.init(job: job, url: url) { action in
            action.action == .cancel ? [.cancelled] : [.running] + (outcome(action).map { [$0] } ?? [])
        }
    }

    init(job: String, url: String, replies: @escaping @Sendable (ActionMessage) -> [RunStatus]) async throws {
        let bus = try RabbitMQBus(connectionString: url, logger: Logger(label: "worker"))
        try await bus.waitUntilConnected(timeout: .seconds(20))
        try await bus.declareTopology(jobName: job)
        let consumer = try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 10)
        self.bus = bus
        let seen = self.seen
        task = Task {
            for await delivery in consumer.deliveries {
                guard let action = try? ActionMessage(parsing: delivery.body) else {
                    await delivery.ack()
                    continue
                }
                seen.append(action)
                for status in replies(action) {
                    let body = #"{"jobName":"\#(job)","runId":"\#(action.runID.hex)","status":"\#(status.rawValue)"}"#
                    _ = try? await bus.publish([
                        OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: Array(body.utf8))
                    ])
                }
                await delivery.ack()
            }
        }
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
