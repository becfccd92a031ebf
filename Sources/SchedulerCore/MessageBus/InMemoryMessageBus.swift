import Synchronization

/// A `MessageBus` in process memory for unit tests: topic exchanges, durable-looking queues,
/// manual ack, nack with requeue (redelivered first, flagged), prefetch, competing consumers.
/// It can be "disconnected" to test callers' outage handling.
public final class InMemoryMessageBus: MessageBus {
    private struct Message {
        var exchange: String
        var routingKey: String
        var body: [UInt8]
        var redelivered = false
    }

    private struct Subscriber {
        let id: Int
        let queue: String
        let prefetch: Int
        let continuation: AsyncStream<Delivery>.Continuation
        var unacked: [Int: Message] = [:]
    }

    private struct State {
        var bindings: [String: [(pattern: String, queue: String)]] = [:]
        var queues: [String: [Message]] = [:]
        var subscribers: [Int: Subscriber] = [:]
        /// Subscriber ids per queue, so dispatch does not scan every subscriber of every queue.
        var subscribersByQueue: [String: [Int]] = [:]
        var nextID = 0
        var connected = true
        var published = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isConnected: Bool { state.withLock { $0.connected } }

    /// Simulates losing (false) or regaining (true) the broker.
    public func setConnected(_ connected: Bool) {
        state.withLock { $0.connected = connected }
    }

    /// Messages accepted so far.
    public var publishedCount: Int { state.withLock { $0.published } }

    /// Messages waiting (not delivered) in `queue`.
    public func depth(of queue: String) -> Int { state.withLock { $0.queues[queue]?.count ?? 0 } }

    public func declareTopology(jobName: String) async throws {
        try state.withLock { state in
            guard state.connected else { throw MessageBusError.unavailable("disconnected") }
            let exchange = Topology.exchange(jobName)
            var bindings = state.bindings[exchange] ?? []
            for key in Topology.keys {
                let queue = Topology.queue(jobName, key)
                if state.queues[queue] == nil { state.queues[queue] = [] }
                if !bindings.contains(where: { $0.pattern == key && $0.queue == queue }) {
                    bindings.append((key, queue))
                }
            }
            state.bindings[exchange] = bindings
        }
    }

    public func publish(_ messages: [OutgoingMessage]) async throws -> [Bool] {
        try state.withLock { state in
            guard state.connected else { throw MessageBusError.unavailable("disconnected") }
            var touched = Set<String>()
            let outcomes = messages.map { message -> Bool in
                guard let bindings = state.bindings[message.exchange] else { return false }
                for binding in bindings where Self.topicMatches(binding.pattern, message.routingKey) {
                    state.queues[binding.queue, default: []].append(
                        Message(exchange: message.exchange, routingKey: message.routingKey, body: message.body))
                    touched.insert(binding.queue)
                }
                state.published += 1
                return true
            }
            for queue in touched { dispatch(&state, queue) }
            return outcomes
        }
    }

    public func subscribe(queue: String, prefetch: Int, to sink: DeliverySink) async throws -> Subscription {
        try state.withLock { state in
            guard state.connected else { throw MessageBusError.unavailable("disconnected") }
            guard state.queues[queue] != nil else { throw MessageBusError.refused("no queue '\(queue)'") }
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(
                id: state.nextID, queue: queue, prefetch: max(1, prefetch), continuation: sink)
            state.subscribersByQueue[queue, default: []].append(state.nextID)
            dispatch(&state, queue)
            return Subscription(queue: queue, id: state.nextID)
        }
    }

    public func unsubscribe(_ subscription: Subscription) async {
        state.withLock { state in
            guard let subscriber = state.subscribers.removeValue(forKey: subscription.id) else { return }
            state.subscribersByQueue[subscriber.queue]?.removeAll { $0 == subscription.id }
            if state.subscribersByQueue[subscriber.queue]?.isEmpty == true {
                state.subscribersByQueue[subscriber.queue] = nil
            }
            let returned = subscriber.unacked.sorted { $0.key < $1.key }.map { entry in
                var message = entry.value
                message.redelivered = true
                return message
            }
            state.queues[subscriber.queue, default: []].insert(contentsOf: returned, at: 0)
            dispatch(&state, subscriber.queue)
        }
    }

    private func settle(subscriber id: Int, tag: Int, ack: Bool, requeue: Bool) {
        state.withLock { state in
            guard let queue = state.subscribers[id]?.queue,
                var message = state.subscribers[id]?.unacked.removeValue(forKey: tag)
            else { return }
            if !ack && requeue {
                message.redelivered = true
                state.queues[queue, default: []].insert(message, at: 0)
            }
            dispatch(&state, queue)
        }
    }

    /// Hands ready messages to subscribers with room under their prefetch, round-robin.
    private func dispatch(_ state: inout State, _ queue: String) {
        let ids = state.subscribersByQueue[queue] ?? []
        guard !ids.isEmpty else { return }
        var progress = true
        while progress, !(state.queues[queue]?.isEmpty ?? true) {
            progress = false
            for id in ids {
                guard var subscriber = state.subscribers[id], subscriber.unacked.count < subscriber.prefetch,
                    !(state.queues[queue]?.isEmpty ?? true)
                else { continue }
                let message = state.queues[queue]!.removeFirst()
                state.nextID += 1
                let tag = state.nextID
                subscriber.unacked[tag] = message
                state.subscribers[id] = subscriber
                subscriber.continuation.yield(
                    Delivery(
                        queue: queue, body: message.body, exchange: message.exchange, routingKey: message.routingKey,
                        redelivered: message.redelivered, persistent: true, contentType: "application/json"
                    ) { [self] ack, requeue in settle(subscriber: id, tag: tag, ack: ack, requeue: requeue) })
                progress = true
            }
        }
    }

    /// AMQP topic matching: `*` is one word, `#` zero or more.
    static func topicMatches(_ pattern: String, _ key: String) -> Bool {
        func match(_ p: ArraySlice<Substring>, _ k: ArraySlice<Substring>) -> Bool {
            guard let head = p.first else { return k.isEmpty }
            if head == "#" {
                return (0...k.count).contains { match(p.dropFirst(), k.dropFirst($0)) }
            }
            guard let word = k.first, head == "*" || head == word else { return false }
            return match(p.dropFirst(), k.dropFirst())
        }
        return match(
            ArraySlice(pattern.split(separator: ".", omittingEmptySubsequences: false)),
            ArraySlice(key.split(separator: ".", omittingEmptySubsequences: false)))
    }
}
