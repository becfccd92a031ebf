/// The broker as the daemons use it (SPEC §2): per-job topology, confirmed persistent
/// publishes, and manually acknowledged consumers. Served by RabbitMQ (librabbitmq) and,
/// for unit tests, by an in-memory bus with the same semantics.
public protocol MessageBus: Sendable {
    /// Declares `scheduler.job.N` and its three bound queues; idempotent. The bus re-declares
    /// every topology it declared after a reconnect.
    func declareTopology(jobName: String) async throws

    /// Declares several jobs' topologies at once (a takeover, a burst of first fires) and returns
    /// the jobs whose declaration failed, with why; the others are declared. One refused job
    /// does not fail the rest.
    func declareTopologies(jobNames: [String]) async -> [String: any Error]

    /// Publishes persistent JSON messages and waits once for the broker's confirms of the
    /// whole batch. One outcome per message, in order: `true` confirmed, `false` refused by the
    /// broker (nack, no such exchange). Throws `MessageBusError.unavailable` when not connected:
    /// then nothing of the batch is known to be delivered, and the caller keeps it for later.
    func publish(_ messages: [OutgoingMessage]) async throws -> [Bool]

    /// Starts consuming `queue` with manual acknowledgement and at most `prefetch` unacknowledged
    /// deliveries, yielded to `sink`. Many subscriptions may share one sink (a scheduler holding
    /// 100,000 jobs reads all their queues through one stream and one task); `Delivery.queue` says
    /// which queue a delivery came from. The subscription survives reconnects: the bus subscribes
    /// it again by itself. The bus finishes sinks only when it shuts down; a subscription the
    /// broker ends (its queue was deleted) just stops delivering, with a warning.
    func subscribe(queue: String, prefetch: Int, to sink: DeliverySink) async throws -> Subscription

    /// Stops a subscription; its unacknowledged deliveries return to the queue. The sink stays open.
    func unsubscribe(_ subscription: Subscription) async

    /// Whether the bus is connected now.
    var isConnected: Bool { get }
}

/// Where a subscription's deliveries go.
public typealias DeliverySink = AsyncStream<Delivery>.Continuation

/// One queue consumed into a sink, as `MessageBus.subscribe` started it.
public struct Subscription: Hashable, Sendable {
    public let queue: String
    let id: Int

    public init(queue: String, id: Int) {
        self.queue = queue
        self.id = id
    }
}

extension MessageBus {
    /// One at a time; stops when the task is cancelled (the rest fail with `CancellationError`).
    public func declareTopologies(jobNames: [String]) async -> [String: any Error] {
        var failures: [String: any Error] = [:]
        for name in jobNames {
            guard !Task.isCancelled else {
                failures[name] = CancellationError()
                continue
            }
            do { try await declareTopology(jobName: name) } catch { failures[name] = error }
        }
        return failures
    }

    /// Consumes one queue into a stream of its own (see `subscribe`); `Consumer.cancel()` ends it.
    public func consume(queue: String, prefetch: Int) async throws -> Consumer {
        let (stream, sink) = AsyncStream<Delivery>.makeStream()
        do {
            let subscription = try await subscribe(queue: queue, prefetch: prefetch, to: sink)
            return Consumer(queue: queue, deliveries: stream) {
                await unsubscribe(subscription)
                sink.finish()
            }
        } catch {
            sink.finish()
            throw error
        }
    }
}

/// A message to publish: persistent, `application/json`.
public struct OutgoingMessage: Hashable, Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]

    public init(exchange: String, routingKey: String, body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
    }

    /// An action for a worker of `message.jobName` (SPEC §2).
    public init(action message: ActionMessage) {
        self.init(exchange: Topology.exchange(message.jobName), routingKey: Topology.actionKey, body: message.body)
    }
}

/// One received message; acknowledge or reject it exactly once.
public struct Delivery: Sendable {
    /// The queue it was consumed from.
    public var queue: String
    public var body: [UInt8]
    public var exchange: String
    public var routingKey: String
    /// The broker delivered it before (a nack with requeue, or a lost connection).
    public var redelivered: Bool
    /// Delivery mode 2.
    public var persistent: Bool
    public var contentType: String?
    let settle: @Sendable (_ ack: Bool, _ requeue: Bool) async -> Void

    public init(
        queue: String, body: [UInt8], exchange: String, routingKey: String, redelivered: Bool, persistent: Bool,
        contentType: String?, settle: @escaping @Sendable (_ ack: Bool, _ requeue: Bool) async -> Void
    ) {
        self.queue = queue
        self.body = body
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.persistent = persistent
        self.contentType = contentType
        self.settle = settle
    }

    /// Acknowledges: the broker forgets the message.
    public func ack() async { await settle(true, false) }

    /// Rejects: with `requeue` the broker delivers it again, else drops it.
    public func nack(requeue: Bool) async { await settle(false, requeue) }
}

/// One queue consumed into a stream of its own. Iterate `deliveries`; `cancel()` stops it
/// (unacknowledged deliveries return to the queue) and ends the stream.
public struct Consumer: Sendable {
    public let queue: String
    public let deliveries: AsyncStream<Delivery>
    let stop: @Sendable () async -> Void

    public init(queue: String, deliveries: AsyncStream<Delivery>, stop: @escaping @Sendable () async -> Void) {
        self.queue = queue
        self.deliveries = deliveries
        self.stop = stop
    }

    /// Stops consuming.
    public func cancel() async { await stop() }
}

/// An error from a `MessageBus`.
public struct MessageBusError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Code: Hashable, Sendable {
        case unavailable
        case invalidURL
        case refused
    }

    let code: Code
    public let message: String

    /// Not connected, or the connection was lost before the broker answered; retry later.
    public static func unavailable(_ detail: String) -> MessageBusError {
        MessageBusError(code: .unavailable, message: "message bus unavailable: \(detail)")
    }

    /// The connection string cannot be used.
    public static func invalidURL(_ detail: String) -> MessageBusError {
        MessageBusError(code: .invalidURL, message: detail)
    }

    /// The broker refused an operation (a declare that clashes with an existing entity).
    public static func refused(_ detail: String) -> MessageBusError {
        MessageBusError(code: .refused, message: "broker refused: \(detail)")
    }

    public var isUnavailable: Bool { code == .unavailable }
    public var description: String { message }
}

/// Names of SPEC §2's per-job topology.
public enum Topology {
    public static let actionKey = "action"
    public static let statusKey = "status"
    public static let heartbeatKey = "heartbeat"
    /// The routing keys, each bound to the queue of the same suffix.
    public static let keys = [actionKey, statusKey, heartbeatKey]

    /// `scheduler.job.N`.
    public static func exchange(_ jobName: String) -> String { "scheduler.job.\(jobName)" }

    /// `scheduler.job.N.<key>`.
    public static func queue(_ jobName: String, _ key: String) -> String { "scheduler.job.\(jobName).\(key)" }

    /// The job name and key of a queue named by `queue(_:_:)`; `nil` for any other name.
    public static func parseQueue(_ queue: String) -> (jobName: String, key: String)? {
        let prefix = "scheduler.job."
        guard queue.hasPrefix(prefix), let dot = queue.lastIndex(of: "."),
            dot > queue.index(queue.startIndex, offsetBy: prefix.count)
        else { return nil }
        let key = String(queue[queue.index(after: dot)...])
        guard keys.contains(key) else { return nil }
        return (String(queue[queue.index(queue.startIndex, offsetBy: prefix.count)..<dot]), key)
    }
}
