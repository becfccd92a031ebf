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
        let prefetch: Int
        let continuation: AsyncStream<Delivery>.Continuation
        var unacked: [Int: Message] = [:]
    }

    /// A queue keeps its own subscribers: a table of all subscribers by id would cost a
    /// hash-table entry per subscription, and a scheduler subscribes two queues per job.
    private struct Queue {
        var ready: [Message] = []
        /// Served round-robin, in subscription order.
        var subscribers: [Subscriber] = []
    }

    private struct State {
        var bindings: [String: [(pattern: String, queue: String)]] = [:]
        var queues: [String: Queue] = [:]
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
    public func depth(of queue: String) -> Int { state.withLock { $0.queues[queue]?.ready.count ?? 0 } }

    public func declareTopology(jobName: String) async throws {
        try state.withLock { state in
            guard state.connected else { throw MessageBusError.unavailable("disconnected") }
            let exchange = Topology.exchange(jobName)
            var bindings = state.bindings[exchange] ?? []
            for key in Topology.keys {
                let queue = Topology.queue(jobName, key)
                if state.queues[queue] == nil { state.queues[queue] = Queue() }
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
                    state.queues[binding.queue, default: Queue()].ready.append(
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
            state.queues[queue]!.subscribers.append(
                Subscriber(id: state.nextID, prefetch: max(1, prefetch), continuation: sink))
            dispatch(&state, queue)
            return Subscription(queue: queue, id: state.nextID)
        }
    }

    public func unsubscribe(_ subscription: Subscription) async {
        state.withLock { state in
            let queue = subscription.queue
            guard let position = state.queues[queue]?.subscribers.firstIndex(where: { $0.id == subscription.id })
            else { return }
            let subscriber = state.queues[queue]!.subscribers.remove(at: position)
            let returned = subscriber.unacked.sorted { $0.key < $1.key }.map { entry in
                var message = entry.value
                message.redelivered = true
                return message
            }
            state.queues[queue]!.ready.insert(contentsOf: returned, at: 0)
            dispatch(&state, queue)
        }
    }

    private func settle(queue: String, subscriber id: Int, tag: Int, ack: Bool, requeue: Bool) {
        state.withLock { state in
            guard let position = state.queues[queue]?.subscribers.firstIndex(where: { $0.id == id }),
                var message = state.queues[queue]!.subscribers[position].unacked.removeValue(forKey: tag)
            else { return }
            if !ack && requeue {
                message.redelivered = true
                state.queues[queue]!.ready.insert(message, at: 0)
            }
            dispatch(&state, queue)
        }
    }

    /// Hands ready messages to subscribers with room under their prefetch, round-robin.
    private func dispatch(_ state: inout State, _ queue: String) {
        guard var record = state.queues[queue], !record.subscribers.isEmpty, !record.ready.isEmpty else { return }
        // Worked on a copy so the queue's buffers are not copied on every change.
        state.queues[queue] = Queue()
        defer { state.queues[queue] = record }
        var progress = true
        while progress, !record.ready.isEmpty {
            progress = false
            for position in record.subscribers.indices {
                guard record.subscribers[position].unacked.count < record.subscribers[position].prefetch,
                    !record.ready.isEmpty
                else { continue }
                let message = record.ready.removeFirst()
                state.nextID += 1
                let tag = state.nextID
                let id = record.subscribers[position].id
                record.subscribers[position].unacked[tag] = message
                record.subscribers[position].continuation.yield(
                    Delivery(
                        queue: queue, body: message.body, exchange: message.exchange, routingKey: message.routingKey,
                        redelivered: message.redelivered, persistent: true, contentType: "application/json"
                    ) { [self] ack, requeue in
                        settle(queue: queue, subscriber: id, tag: tag, ack: ack, requeue: requeue)
                    })
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
