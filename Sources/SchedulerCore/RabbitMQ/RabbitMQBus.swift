import Foundation
import Logging
import Synchronization

/// The RabbitMQ `MessageBus`, on librabbitmq.
///
/// One connection, owned by one dedicated thread (`RabbitMQConnectionLoop`): librabbitmq is
/// not thread-safe, and its calls block, so they never run on Swift's cooperative pool.
/// Callers' requests reach that thread as commands; results come back through continuations.
/// After the broker goes away the thread reconnects with exponential back-off and jitter,
/// declares every topology again and subscribes every consumer again, by itself.
public final class RabbitMQBus: MessageBus {
    private let loop: RabbitMQConnectionLoop

    /// Starts connecting to `connectionString` in the background.
    public init(connectionString: String, logger: Logger) throws(MessageBusError) {
        loop = RabbitMQConnectionLoop(url: try AMQPURL(connectionString), logger: logger)
        loop.start()
    }

    public var isConnected: Bool { loop.isConnected }

    /// Waits until connected, or throws `unavailable` after `timeout`.
    public func waitUntilConnected(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isConnected {
            guard ContinuousClock.now < deadline else { throw MessageBusError.unavailable("not connected") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func declareTopology(jobName: String) async throws {
        if let error = await declareTopologies(jobNames: [jobName])[jobName] { throw error }
    }

    /// In pipelined batches: a few round trips for a takeover's thousand jobs, where one per job
    /// kept the first actions after a takeover off the broker for seconds.
    public func declareTopologies(jobNames: [String]) async -> [String: any Error] {
        await withCheckedContinuation { continuation in loop.send(.declare(jobNames, [:], continuation)) }
    }

    public func publish(_ messages: [OutgoingMessage]) async throws -> [Bool] {
        guard !messages.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            loop.send(.publish(messages, continuation))
        }
    }

    public func subscribe(queue: String, prefetch: Int, to sink: DeliverySink) async throws -> Subscription {
        let record = ConsumerRecord(id: loop.nextConsumerID(), queue: queue, prefetch: max(1, prefetch), sink: sink)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            loop.send(.consume(record, continuation))
        }
        return Subscription(queue: queue, id: record.id)
    }

    public func unsubscribe(_ subscription: Subscription) async {
        await withCheckedContinuation { continuation in loop.send(.cancel(subscription.id, continuation)) }
    }

    /// Closes the connection (unacknowledged deliveries return to their queues), fails what is
    /// pending, finishes every sink, and stops the thread.
    public func shutdown() async {
        await withCheckedContinuation { continuation in loop.send(.stop(continuation)) }
    }
}

/// A subscription as the connection thread keeps it across reconnects.
struct ConsumerRecord: Sendable {
    let id: Int
    let queue: String
    let prefetch: Int
    let sink: DeliverySink
}
