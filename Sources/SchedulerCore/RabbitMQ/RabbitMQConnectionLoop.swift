import Foundation
import Logging
import Synchronization
internal import CRabbitMQ

/// The thread that owns the AMQP connection. Every `var` below is touched only on that
/// thread (`run()` and what it calls), except `commands` (a `Mutex`) and `connected`
/// (an `Atomic`); that confinement is why the class may be `@unchecked Sendable`.
final class RabbitMQConnectionLoop: @unchecked Sendable {
    enum Command: Sendable {
        /// Jobs to declare, the failures of earlier turns, and who waits for them all.
        case declare([String], [String: any Error], CheckedContinuation<[String: any Error], Never>)
        case publish([OutgoingMessage], CheckedContinuation<[Bool], Error>)
        case consume(ConsumerRecord, CheckedContinuation<Void, Error>)
        case cancel(Int, CheckedContinuation<Void, Never>)
        case settle(generation: Int, channel: UInt16, tag: UInt64, ack: Bool, requeue: Bool)
        case stop(CheckedContinuation<Void, Never>)
    }

    /// A batch of publishes waiting for the broker's confirms.
    private struct PendingBatch {
        let firstTag: UInt64
        var outcomes: [Bool?]
        let continuation: CheckedContinuation<[Bool], Error>
        var lastTag: UInt64 { firstTag + UInt64(outcomes.count) - 1 }
    }

    // Channel numbers: publishing in confirm mode, synchronous declarations (a refused declare
    // closes only that channel), and deliveries.
    static let publishChannel: UInt16 = 1
    static let declareChannel: UInt16 = 2
    static let consumeChannel: UInt16 = 3

    private let url: AMQPURL
    private let logger: Logger
    private let commands = Mutex<[Command]>([])
    private let connected = Atomic<Bool>(false)
    private let consumerIDs = Atomic<Int>(0)
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private var connection: AMQPConnection?
    private var generation = 0
    /// Every topology declared through this bus, to declare again after a reconnect.
    private var topologies: Set<String> = []
    private var declared: Set<String> = []
    /// The prefetch last set on the consume channel of this connection.
    private var consumePrefetch: Int?
    private var consumers: [Int: ConsumerRecord] = [:]
    private var consumerByTag: [String: Int] = [:]
    /// Deliveries of this connection not yet acknowledged, by delivery tag → consumer id. A tag is
    /// settled at most once: a second ack of one tag would make the broker close the channel.
    private var outstanding: [UInt64: Int] = [:]
    private var pending: [PendingBatch] = []
    private var nextPublishTag: UInt64 = 1
    private var stopping: CheckedContinuation<Void, Never>?
    private var lastFailure: String?

    init(url: AMQPURL, logger: Logger) {
        self.url = url
        self.logger = logger
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "cannot create a pipe")
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        _ = fcntl(wakeWrite, F_SETFL, fcntl(wakeWrite, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    var isConnected: Bool { connected.load(ordering: .acquiring) }

    func nextConsumerID() -> Int { consumerIDs.add(1, ordering: .relaxed).newValue }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "rabbitmq"
        thread.start()
    }

    /// Queues a command and wakes the thread (any thread may call this).
    func send(_ command: Command) {
        commands.withLock { $0.append(command) }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: The thread

    private func run() {
        var backoff = 0.1
        while stopping == nil {
            if connection == nil {
                do {
                    try connect()
                    backoff = 0.1
                } catch {
                    noteFailure("cannot connect to \(url): \(error)")
                    let delay = backoff * Double.random(in: 0.5...1.0)
                    backoff = min(backoff * 2, 10)
                    waitForWake(seconds: delay)
                    runCommands()
                    continue
                }
            }
            runCommands()
            guard let connection, stopping == nil else { continue }
            if !connection.hasBufferedInput { waitForInput(connection) }
            do {
                try readFrames(connection)
            } catch {
                lose(error)
            }
        }
        shutdownConnection()
    }

    private func connect() throws(AMQPError) {
        let conn = try AMQPConnection(url: url)
        try conn.openChannel(Self.publishChannel)
        try conn.confirmSelect(Self.publishChannel)
        try conn.openChannel(Self.declareChannel)
        try conn.openChannel(Self.consumeChannel)
        connection = conn
        generation += 1
        nextPublishTag = 1
        outstanding.removeAll()
        declared.removeAll()
        consumePrefetch = nil
        for (job, error) in declareTopologies(Array(topologies), on: conn) {
            logger.warning("cannot declare topology again", metadata: ["job.name": "\(job)", "error": "\(error)"])
        }
        for record in consumers.values.sorted(by: { $0.id < $1.id }) {
            do { try subscribe(record, on: conn) } catch {
                logger.warning("cannot consume again", metadata: ["queue": "\(record.queue)", "error": "\(error)"])
            }
        }
        connected.store(true, ordering: .releasing)
        if lastFailure != nil || generation == 1 {
            logger.info("connected to the message bus", metadata: ["bus.url": "\(url)"])
        }
        lastFailure = nil
    }

    /// Logs a failure once per change of state, not once per retry.
    private func noteFailure(_ message: String) {
        if lastFailure != message {
            logger.error("\(message); retrying with back-off")
            lastFailure = message
        }
    }

    private func lose(_ error: Error) {
        connected.store(false, ordering: .releasing)
        connection?.abandon()
        connection = nil
        noteFailure("lost the message bus connection: \(error)")
        failPending(MessageBusError.unavailable("connection lost before the broker confirmed"))
    }

    private func failPending(_ error: MessageBusError) {
        for batch in pending { batch.continuation.resume(throwing: error) }
        pending.removeAll()
    }

    private func shutdownConnection() {
        connected.store(false, ordering: .releasing)
        connection?.close()
        connection = nil
        failPending(.unavailable("the bus is shutting down"))
        for record in consumers.values { record.sink.finish() }
        consumers.removeAll()
        runCommands()  // fail whatever arrived meanwhile
        stopping?.resume()
    }

    private func waitForWake(seconds: Double) {
        var descriptor = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, Int32(seconds * 1000))
        drainWake()
    }

    private func waitForInput(_ connection: AMQPConnection) {
        var descriptors = [
            pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        // Short enough that librabbitmq, called after every wake-up, sends heartbeats in time.
        _ = poll(&descriptors, 2, Int32(max(100, min(1000, url.heartbeat * 1000 / 4))))
        drainWake()
    }

    private func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    // MARK: Commands

    private func runCommands() {
        let batch = commands.withLock { queue -> [Command] in
            defer { queue.removeAll() }
            return queue
        }
        for command in batch { execute(command) }
    }

    private func execute(_ command: Command) {
        switch command {
        case .declare(let jobs, let earlier, let continuation):
            topologies.formUnion(jobs)
            guard let connection else {
                let unavailable = MessageBusError.unavailable("not connected")
                let failures = earlier.merging(jobs.map { ($0, unavailable) }) { first, _ in first }
                return continuation.resume(returning: failures)
            }
            // A turn of jobs at a time, then the command goes to the back of the queue: a broker
            // takes milliseconds per new topology, and the publishes and confirms queued meanwhile
            // (the fires of a start-up or a takeover) must not wait seconds behind a thousand.
            let turn = Array(jobs.prefix(Self.declareBatch))
            let failures = earlier.merging(declareTopologies(turn, on: connection)) { first, _ in first }
            if jobs.count > turn.count {
                send(.declare(Array(jobs.dropFirst(turn.count)), failures, continuation))
            } else {
                continuation.resume(returning: failures)
            }
        case .publish(let messages, let continuation):
            guard let connection else {
                return continuation.resume(throwing: MessageBusError.unavailable("not connected"))
            }
            let first = nextPublishTag
            do {
                for message in messages {
                    try connection.publish(Self.publishChannel, message)
                    nextPublishTag += 1
                }
                pending.append(
                    PendingBatch(
                        firstTag: first, outcomes: Array(repeating: nil, count: messages.count),
                        continuation: continuation))
            } catch {
                continuation.resume(throwing: MessageBusError.unavailable("\(error)"))
                lose(error)
            }
        case .consume(let record, let continuation):
            consumers[record.id] = record
            guard let connection else { return continuation.resume() }  // subscribed on reconnect
            do {
                try subscribe(record, on: connection)
                continuation.resume()
            } catch {
                consumers[record.id] = nil
                continuation.resume(throwing: failure(error))
            }
        case .cancel(let id, let continuation):
            if let record = consumers.removeValue(forKey: id) {
                let tag = consumerTag(record)
                consumerByTag[tag] = nil
                if let connection {
                    try? connection.cancel(Self.consumeChannel, tag: tag)
                    // basic.cancel leaves unacknowledged deliveries with the consumer; give them back.
                    for (deliveryTag, owner) in outstanding where owner == id {
                        outstanding[deliveryTag] = nil
                        try? connection.nack(Self.consumeChannel, tag: deliveryTag, requeue: true)
                    }
                }
            }
            continuation.resume()
        case .settle(let deliveredGeneration, let channel, let tag, let ack, let requeue):
            // A delivery of an earlier connection was requeued by the broker when it ended.
            guard deliveredGeneration == generation, let connection, outstanding.removeValue(forKey: tag) != nil
            else { return }
            do {
                if ack { try connection.ack(channel, tag: tag) } else {
                    try connection.nack(channel, tag: tag, requeue: requeue)
                }
            } catch {
                lose(error)
            }
        case .stop(let continuation):
            stopping = continuation
        }
    }

    private func failure(_ error: Error) -> MessageBusError {
        if let error = error as? AMQPError, error.replyCode != nil { return .refused(error.description) }
        return .unavailable("\(error)")
    }

    // MARK: Topology and consumers

    /// Runs a synchronous method on the declare channel; a channel the broker closed (a refused
    /// declare) is answered and opened again so the next declaration works.
    private func onDeclareChannel(_ connection: AMQPConnection, _ body: () throws(AMQPError) -> Void) throws {
        do { try body() } catch {
            if error.closedChannel != nil {
                connection.acknowledgeChannelClose(Self.declareChannel)
                try connection.openChannel(Self.declareChannel)
            } else {
                lose(error)
            }
            throw error
        }
    }

    /// Declares the jobs not declared on this connection, `declareBatch` at a time, each batch
    /// in one round trip: every method goes out with nowait but the batch's last, whose reply
    /// confirms the others (a channel answers in order). A refused job closes the channel and
    /// the broker drops the rest of its batch without saying which job it was, so that batch
    /// is declared again one job at a time. Returns the jobs that failed, with why.
    private func declareTopologies(_ jobs: [String], on connection: AMQPConnection) -> [String: any Error] {
        var missing: [String] = []
        var seen: Set<String> = []
        for job in jobs where !declared.contains(job) && seen.insert(job).inserted { missing.append(job) }
        var failures: [String: any Error] = [:]
        var start = 0
        while start < missing.count {
            let batch = Array(missing[start..<min(start + Self.declareBatch, missing.count)])
            start += batch.count
            // Most topologies exist already (a takeover, a reconnect). Checking is a lookup for the
            // broker, while declaring an existing durable queue or binding again still costs it a
            // metadata transaction: seconds for a thousand jobs, during which nothing else on
            // this connection moves (the fires of a takeover stalled for ten). A missing one
            // closes the channel, and the batch is declared in full.
            if self.connection === connection, (try? onDeclareChannel(connection) { () throws(AMQPError) in
                for job in batch { try checkTopology(job, waitAtEnd: job == batch.last, on: connection) }
            }) != nil {
                declared.formUnion(batch)
                continue
            }
            guard self.connection === connection else {
                for job in batch { failures[job] = MessageBusError.unavailable("not connected") }
                continue
            }
            do {
                try onDeclareChannel(connection) { () throws(AMQPError) in
                    for job in batch { try sendTopology(job, waitAtEnd: job == batch.last, on: connection) }
                }
                declared.formUnion(batch)
            } catch let error as AMQPError where error.closedChannel != nil && batch.count > 1 {
                for job in batch {
                    guard self.connection === connection else {
                        failures[job] = MessageBusError.unavailable("not connected")
                        continue
                    }
                    do {
                        try onDeclareChannel(connection) { () throws(AMQPError) in
                            try sendTopology(job, waitAtEnd: true, on: connection)
                        }
                        declared.insert(job)
                    } catch {
                        failures[job] = failure(error)
                    }
                }
            } catch {
                for job in batch { failures[job] = failure(error) }
            }
        }
        return failures
    }

    /// Jobs per pipelined declaration, and per turn of a `.declare` command: about 150 ms of the
    /// broker's time when all are new, a few when they exist.
    static let declareBatch = 25

    /// Passive declarations of the exchange and the three queues, with nowait but the last when
    /// `waitAtEnd`. AMQP cannot check a binding: queues that exist are taken to be bound, as
    /// the scheduler declares them together.
    private func checkTopology(_ job: String, waitAtEnd: Bool, on connection: AMQPConnection) throws(AMQPError) {
        try connection.declareExchange(
            Self.declareChannel, name: Topology.exchange(job), type: "topic", passive: true, wait: false)
        for key in Topology.keys {
            try connection.declareQueue(
                Self.declareChannel, name: Topology.queue(job, key), passive: true,
                wait: waitAtEnd && key == Topology.keys.last)
        }
    }

    /// The exchange, the three queues and their bindings, all with nowait but the last binding
    /// when `waitAtEnd`.
    private func sendTopology(_ job: String, waitAtEnd: Bool, on connection: AMQPConnection) throws(AMQPError) {
        let exchange = Topology.exchange(job)
        try connection.declareExchange(Self.declareChannel, name: exchange, type: "topic", wait: false)
        for key in Topology.keys {
            let queue = Topology.queue(job, key)
            try connection.declareQueue(Self.declareChannel, name: queue, wait: false)
            try connection.bindQueue(
                Self.declareChannel, queue: queue, exchange: exchange, key: key,
                wait: waitAtEnd && key == Topology.keys.last)
        }
    }

    private func consumerTag(_ record: ConsumerRecord) -> String { "ss-\(record.id)-\(generation)" }

    private func subscribe(_ record: ConsumerRecord, on connection: AMQPConnection) throws {
        // A passive declare first: consuming a missing queue would close the channel that every
        // other consumer shares; a failed passive declare closes only the declare channel.
        try onDeclareChannel(connection) { () throws(AMQPError) in
            try connection.declareQueue(Self.declareChannel, name: record.queue, passive: true)
        }
        do {
            // basic.qos applies to the consumers started after it on the channel: sent only when
            // the prefetch changes (every job's queues use the same one).
            if record.prefetch != consumePrefetch {
                try connection.qos(Self.consumeChannel, prefetch: record.prefetch)
                consumePrefetch = record.prefetch
            }
            let tag = consumerTag(record)
            try connection.consume(Self.consumeChannel, queue: record.queue, tag: tag)
            consumerByTag[tag] = record.id
        } catch {
            lose(error)
            throw error
        }
    }

    // MARK: Frames

    private func readFrames(_ connection: AMQPConnection) throws {
        while let frame = try connection.nextFrame() {
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method
            switch method.id {
            case AMQP_BASIC_DELIVER_METHOD:
                let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
                let tag = String(deliver.consumer_tag)
                let message = try connection.readMessage(frame.channel)
                deliverMessage(
                    consumerTag: tag, channel: frame.channel, deliveryTag: deliver.delivery_tag,
                    redelivered: deliver.redelivered != 0, exchange: String(deliver.exchange),
                    routingKey: String(deliver.routing_key), message: message)
            case AMQP_BASIC_ACK_METHOD:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                confirm(tag: ack.delivery_tag, multiple: ack.multiple != 0, outcome: true)
            case AMQP_BASIC_NACK_METHOD:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                confirm(tag: nack.delivery_tag, multiple: nack.multiple != 0, outcome: false)
            case AMQP_BASIC_CANCEL_METHOD:
                // The broker cancelled a consumer (its queue was deleted): it delivers no more. Its
                // sink may be shared with other subscriptions, so it stays open.
                let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
                if let id = consumerByTag.removeValue(forKey: String(cancel.consumer_tag)),
                    let record = consumers.removeValue(forKey: id)
                {
                    logger.warning("the broker cancelled a consumer", metadata: ["queue": "\(record.queue)"])
                }
            case AMQP_CHANNEL_CLOSE_METHOD where frame.channel == Self.publishChannel:
                let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                try publishChannelClosed(connection, reason: "\(close.reply_code) \(String(close.reply_text))")
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw AMQPError(
                    "broker closed channel \(frame.channel): \(close.reply_code) \(String(close.reply_text))",
                    closedChannel: frame.channel, replyCode: close.reply_code)
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                throw AMQPError("broker closed the connection: \(close.reply_code) \(String(close.reply_text))")
            default:
                continue
            }
        }
        connection.releaseBuffers()
    }

    private func deliverMessage(
        consumerTag: String, channel: UInt16, deliveryTag: UInt64, redelivered: Bool, exchange: String,
        routingKey: String, message: (body: [UInt8], persistent: Bool, contentType: String?)
    ) {
        guard let id = consumerByTag[consumerTag], let record = consumers[id] else {
            // Raced with a cancel: give it back.
            try? connection?.nack(channel, tag: deliveryTag, requeue: true)
            return
        }
        let generation = self.generation
        outstanding[deliveryTag] = id
        record.sink.yield(
            Delivery(
                queue: record.queue, body: message.body, exchange: exchange, routingKey: routingKey, redelivered: redelivered,
                persistent: message.persistent, contentType: message.contentType
            ) { [weak self] ack, requeue in
                self?.send(
                    .settle(generation: generation, channel: channel, tag: deliveryTag, ack: ack, requeue: requeue))
            })
    }

    /// The broker closes the publishing channel when a message names an exchange that does not
    /// exist. What it confirmed before stays confirmed; the rest of the outstanding messages were
    /// discarded with the channel, so they are refused (`false`), and publishing starts afresh.
    private func publishChannelClosed(_ connection: AMQPConnection, reason: String) throws {
        logger.warning("the broker refused a publish", metadata: ["reason": "\(reason)"])
        connection.acknowledgeChannelClose(Self.publishChannel)
        for batch in pending {
            batch.continuation.resume(returning: batch.outcomes.map { $0 ?? false })
        }
        pending.removeAll()
        nextPublishTag = 1
        try connection.openChannel(Self.publishChannel)
        try connection.confirmSelect(Self.publishChannel)
    }

    private func confirm(tag: UInt64, multiple: Bool, outcome: Bool) {
        for index in pending.indices {
            let batch = pending[index]
            guard batch.firstTag <= tag else { break }
            let upper = min(tag, batch.lastTag)
            let lower = multiple ? batch.firstTag : tag
            guard lower <= upper else { continue }
            for t in lower...upper where pending[index].outcomes[Int(t - batch.firstTag)] == nil {
                pending[index].outcomes[Int(t - batch.firstTag)] = outcome
            }
        }
        while let first = pending.first, first.outcomes.allSatisfy({ $0 != nil }) {
            pending.removeFirst()
            first.continuation.resume(returning: first.outcomes.map { $0! })
        }
    }
}
