import Foundation
internal import CRabbitMQ

/// The owner of one librabbitmq connection: open, log in, channels, methods, frames.
///
/// librabbitmq is not thread-safe: a connection and everything read from it belong to one
/// thread. Only `RabbitMQBus`'s connection thread creates and uses this class; it is never
/// shared, so it is not `Sendable`.
final class AMQPConnection {
    let state: amqp_connection_state_t!
    private var closed = false

    /// Opens a TCP (or TLS) socket and logs in; throws `AMQPError` when anything fails.
    init(url: AMQPURL, connectTimeout: TimeInterval = 5) throws(AMQPError) {
        guard let state = amqp_new_connection() else {
            self.state = nil
            throw AMQPError("cannot allocate an AMQP connection")
        }
        self.state = state
        let socket: OpaquePointer?
        if url.tls {
            socket = amqp_ssl_socket_new(state)
            if let socket {
                amqp_ssl_socket_set_verify_peer(socket, 1)
                amqp_ssl_socket_set_verify_hostname(socket, 1)
                // librabbitmq loads no CA store by itself; use the system's (Debian ca-certificates).
                _ = amqp_ssl_socket_set_cacert(socket, url.caCertificateFile)
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        // Once every stored property is set, a throwing init still runs deinit, which destroys
        // the connection: failure paths below only mark it closed, never destroy it themselves.
        guard let socket else {
            closed = true
            throw AMQPError("cannot create a socket")
        }
        var timeout = timeval(tv_sec: Int(connectTimeout), tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            closed = true
            throw AMQPError("cannot connect to \(url.host):\(url.port): \(Self.describe(status))")
        }
        // Bounded handshake and RPC waits: a broker that accepts TCP but never answers must not
        // hang the connection thread.
        var rpcTimeout = timeval(tv_sec: 10, tv_usec: 0)
        amqp_set_handshake_timeout(state, &rpcTimeout)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        let reply = crabbitmq_login_plain(
            state, url.vhost, 2047, Int32(AMQP_DEFAULT_FRAME_SIZE), Int32(url.heartbeat), url.user, url.password)
        if let error = AMQPError(reply, doing: "log in to vhost '\(url.vhost)' as '\(url.user)'") {
            closed = true
            throw error
        }
    }

    deinit {
        guard let state else { return }
        if !closed { _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS) }
        amqp_destroy_connection(state)
    }

    /// Closes politely (the broker then requeues unacknowledged deliveries at once).
    func close() {
        guard !closed else { return }
        closed = true
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
    }

    /// Marks the connection dead without a polite close (the socket is already gone).
    func abandon() { closed = true }

    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether frames are already read and waiting, so polling the socket would be wrong.
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    /// The outcome of the last synchronous method.
    func check(_ what: @autoclosure () -> String) throws(AMQPError) {
        if let error = AMQPError(amqp_get_rpc_reply(state), doing: what()) { throw error }
    }

    func openChannel(_ channel: UInt16) throws(AMQPError) {
        _ = amqp_channel_open(state, channel)
        try check("open channel \(channel)")
    }

    func confirmSelect(_ channel: UInt16) throws(AMQPError) {
        _ = amqp_confirm_select(state, channel)
        try check("enable publisher confirms")
    }

    func qos(_ channel: UInt16, prefetch: Int) throws(AMQPError) {
        _ = amqp_basic_qos(state, channel, 0, UInt16(clamping: prefetch), 0)
        try check("set prefetch \(prefetch)")
    }

    // Declarations with `wait: false` go out with the nowait bit: the broker sends no reply, and
    // a failure closes the channel, which the next method that waits on it then reports. A
    // channel answers in order, so one waiting method after several nowait ones confirms them all
    // in one round trip (a job's topology was seven).

    /// Declares a durable exchange, or with `passive` only checks that it exists.
    func declareExchange(_ channel: UInt16, name: String, type: String, passive: Bool = false, wait: Bool = true)
        throws(AMQPError)
    {
        var arena = AMQPArena()
        defer { arena.free() }
        var method = amqp_exchange_declare_t(
            ticket: 0, exchange: arena.bytes(name), type: arena.bytes(type), passive: passive ? 1 : 0, durable: 1,
            auto_delete: 0,
            internal: 0, nowait: wait ? 0 : 1, arguments: amqp_empty_table)
        try call(channel, AMQP_EXCHANGE_DECLARE_METHOD, &method, wait ? AMQP_EXCHANGE_DECLARE_OK_METHOD : nil,
            "declare exchange '\(name)'")
    }

    /// Declares a durable queue, or with `passive` only checks that it exists.
    func declareQueue(_ channel: UInt16, name: String, passive: Bool = false, wait: Bool = true) throws(AMQPError) {
        var arena = AMQPArena()
        defer { arena.free() }
        var method = amqp_queue_declare_t(
            ticket: 0, queue: arena.bytes(name), passive: passive ? 1 : 0, durable: 1, exclusive: 0, auto_delete: 0,
            nowait: wait ? 0 : 1, arguments: amqp_empty_table)
        try call(channel, AMQP_QUEUE_DECLARE_METHOD, &method, wait ? AMQP_QUEUE_DECLARE_OK_METHOD : nil,
            "declare queue '\(name)'")
    }

    func bindQueue(_ channel: UInt16, queue: String, exchange: String, key: String, wait: Bool = true)
        throws(AMQPError)
    {
        var arena = AMQPArena()
        defer { arena.free() }
        var method = amqp_queue_bind_t(
            ticket: 0, queue: arena.bytes(queue), exchange: arena.bytes(exchange), routing_key: arena.bytes(key),
            nowait: wait ? 0 : 1, arguments: amqp_empty_table)
        try call(channel, AMQP_QUEUE_BIND_METHOD, &method, wait ? AMQP_QUEUE_BIND_OK_METHOD : nil,
            "bind queue '\(queue)' to '\(exchange)' with key '\(key)'")
    }

    /// Sends `method`; with a `reply` to expect, waits for it (or the channel's close) as
    /// librabbitmq's own declare calls do.
    private func call<Method>(
        _ channel: UInt16, _ id: amqp_method_number_t, _ method: inout Method, _ reply: amqp_method_number_t?,
        _ what: @autoclosure () -> String
    ) throws(AMQPError) {
        if let reply {
            _ = withUnsafeMutablePointer(to: &method) { amqp_simple_rpc_decoded(state, channel, id, reply, $0) }
            try check(what())
        } else {
            let status = withUnsafeMutablePointer(to: &method) { amqp_send_method(state, channel, id, $0) }
            guard status == AMQP_STATUS_OK.rawValue else { throw AMQPError("\(what()) failed: \(Self.describe(status))") }
        }
    }

    func consume(_ channel: UInt16, queue: String, tag: String) throws(AMQPError) {
        var arena = AMQPArena()
        defer { arena.free() }
        _ = amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(tag), 0, 0, 0, amqp_empty_table)
        try check("consume queue '\(queue)'")
    }

    /// Cancels a consumer without waiting for cancel-ok: a round trip per consumer made a
    /// shutdown with thousands of jobs take minutes. Deliveries already on their way for the
    /// tag are nacked back by the caller when they arrive.
    func cancel(_ channel: UInt16, tag: String) throws(AMQPError) {
        var arena = AMQPArena()
        defer { arena.free() }
        var method = amqp_basic_cancel_t(consumer_tag: arena.bytes(tag), nowait: 1)
        try call(channel, AMQP_BASIC_CANCEL_METHOD, &method, nil, "cancel consumer '\(tag)'")
    }

    /// Sends a persistent `application/json` message; the broker's confirm arrives later as a frame.
    func publish(_ channel: UInt16, _ message: OutgoingMessage) throws(AMQPError) {
        var arena = AMQPArena()
        defer { arena.free() }
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.content_type = arena.bytes("application/json")
        properties.delivery_mode = 2
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                state, channel, arena.bytes(message.exchange), arena.bytes(message.routingKey), 0, 0, &properties,
                amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError("publish failed: \(Self.describe(status))")
        }
    }

    func ack(_ channel: UInt16, tag: UInt64) throws(AMQPError) {
        let status = amqp_basic_ack(state, channel, tag, 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw AMQPError("ack failed: \(Self.describe(status))") }
    }

    func nack(_ channel: UInt16, tag: UInt64, requeue: Bool) throws(AMQPError) {
        let status = amqp_basic_nack(state, channel, tag, 0, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw AMQPError("nack failed: \(Self.describe(status))") }
    }

    /// Answers a broker's channel.close so the channel number can be opened again.
    func acknowledgeChannelClose(_ channel: UInt16) {
        var closeOk = amqp_channel_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOk)
    }

    /// The next frame if one can be had without waiting; `nil` when none is there.
    func nextFrame() throws(AMQPError) -> amqp_frame_t? {
        var frame = amqp_frame_t()
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &zero)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == AMQP_STATUS_OK.rawValue else { throw AMQPError("connection lost: \(Self.describe(status))") }
        return frame
    }

    /// Reads the header and body that follow a basic.deliver on `channel`.
    func readMessage(_ channel: UInt16) throws(AMQPError) -> (body: [UInt8], persistent: Bool, contentType: String?) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        if let error = AMQPError(reply, doing: "read a delivery") { throw error }
        defer { amqp_destroy_message(&message) }
        let body = Array(UnsafeRawBufferPointer(start: message.body.bytes, count: message.body.len))
        let flags = message.properties._flags
        let persistent = flags & amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 && message.properties.delivery_mode == 2
        let contentType =
            flags & amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG) != 0 ? String(message.properties.content_type) : nil
        return (body, persistent, contentType)
    }

    /// Frees the connection's frame memory once nothing read is still referenced.
    func releaseBuffers() { amqp_maybe_release_buffers(state) }

    static func describe(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}

/// Copies of Swift strings as `amqp_bytes_t` that stay valid until `free()`.
///
/// `amqp_cstring_bytes` on a temporary Swift string dangles once the call that made the
/// pointer returns; the broker then sees garbage and drops the connection ("Malformed UTF-8").
struct AMQPArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    mutating func bytes(_ text: String) -> amqp_bytes_t {
        let utf8 = Array(text.utf8)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(utf8.count, 1), alignment: 1)
        utf8.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        allocations.append(memory)
        return amqp_bytes_t(len: utf8.count, bytes: memory)
    }

    mutating func free() {
        for memory in allocations { memory.deallocate() }
        allocations.removeAll()
    }
}

extension String {
    init(_ bytes: amqp_bytes_t) {
        self = String(decoding: UnsafeRawBufferPointer(start: bytes.bytes, count: bytes.len), as: UTF8.self)
    }
}
