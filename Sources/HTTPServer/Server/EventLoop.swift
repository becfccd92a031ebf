internal import CLinuxSocket
import Foundation
import Glibc
import Synchronization

/// One epoll loop on its own thread. It accepts from the shared listening socket and owns the
/// connections it accepted: reads, parses, hands complete requests to the handler as tasks, and
/// writes their responses when they are posted back. Nothing here blocks: a slow or silent client
/// costs one idle entry, never a thread.
final class EventLoop: @unchecked Sendable {
    // @unchecked: `mailbox` is a Mutex and `wakeWrite` a pipe; every other property is touched
    // only on the loop's own thread.
    enum Message: Sendable {
        case response(UInt64, HTTPResponse, headOnly: Bool, keepAlive: Bool)
        /// Stop accepting; close idle connections; finish the ones with a request in flight.
        case drain
        /// Close everything now.
        case stop
    }

    private static let listenerID: UInt64 = 0
    private static let wakeID: UInt64 = 1
    /// How much a client may send ahead (pipelined requests) while one of its requests is with the
    /// handler; over it, its socket is not read until the answer is out.
    private static let readAheadLimit = 64 * 1024

    private let core: ServerCore
    private let epollFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let mailbox = Mutex<[Message]>([])
    /// A wake byte is in the pipe (or about to be): later posts skip the write, so a loop busy with
    /// many responses is woken once, not once per response.
    private let wakePending = Atomic<Bool>(false)
    private var connections: [UInt64: Connection] = [:]
    private var draining = false
    private var stopping = false
    private var lastSweep: Int64 = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(core: ServerCore) throws(SocketError) {
        self.core = core
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError("epoll_create1") }
        var fds: [Int32] = [0, 0]
        guard clinux_pipe2(&fds, O_NONBLOCK | O_CLOEXEC) == 0 else {
            close(epollFD)
            throw SocketError("pipe2")
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        register(wakeRead, id: Self.wakeID, events: CLINUX_EPOLLIN)
        // EPOLLEXCLUSIVE: one loop wakes per new connection, not all of them.
        register(core.listener.fd, id: Self.listenerID, events: CLINUX_EPOLLIN | CLINUX_EPOLLEXCLUSIVE)
    }

    deinit {
        close(epollFD)
        close(wakeRead)
        close(wakeWrite)
    }

    /// Hands `message` to the loop from any thread.
    func post(_ message: Message) {
        mailbox.withLock { $0.append(message) }
        guard !wakePending.exchange(true, ordering: .sequentiallyConsistent) else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe already means "wake up"
    }

    /// The loop; returns when it has stopped and closed its connections.
    func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !(stopping || (draining && connections.isEmpty)) {
            let count = epoll_wait(epollFD, &events, Int32(events.count), 100)
            let now = monotonicMilliseconds()
            if count > 0 {
                for index in 0..<count {
                    let id = clinux_event_id(&events, index)
                    switch id {
                    case Self.listenerID: acceptAll(now: now)
                    case Self.wakeID: takeMessages(now: now)
                    default:
                        if let connection = connections[id] { handle(connection, events: clinux_event_flags(&events, index), now: now) }
                    }
                }
            }
            if now - lastSweep >= 100 {
                lastSweep = now
                sweep(now: now)
            }
        }
        for connection in connections.values { closeConnection(connection) }
    }

    // MARK: - Accepting

    private func acceptAll(now: Int64) {
        guard !draining else { return }
        while true {
            let fd = clinux_accept4(core.listener.fd, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            guard fd >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // EAGAIN, or out of descriptors: the backlog keeps them until one closes
            }
            let open = core.openConnections.add(1, ordering: .relaxed).newValue
            // Over the cap a connection is still read, so its client gets a 503 rather than a reset;
            // far over it (a flood), it is closed at once.
            guard open <= core.configuration.maxConnections + core.rejectionAllowance else {
                core.openConnections.subtract(1, ordering: .relaxed)
                close(fd)
                continue
            }
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            let id = core.nextConnectionID.add(1, ordering: .relaxed).newValue
            let connection = Connection(
                id: id, fd: fd, rejected: open > core.configuration.maxConnections,
                limits: core.configuration.limits, now: now)
            connections[id] = connection
            updateInterest(connection)
        }
    }

    // MARK: - Connection events

    private func handle(_ connection: Connection, events: UInt32, now: Int64) {
        if events & CLINUX_EPOLLOUT != 0 {
            flush(connection, now: now)
            guard connections[connection.id] != nil else { return }
        }
        if events & (CLINUX_EPOLLIN | CLINUX_EPOLLHUP | CLINUX_EPOLLERR) != 0 {
            guard connection.phase != .closing, !connection.inputClosed else {
                // No read interest here: only a hang-up or an error gets here.
                closeConnection(connection)
                return
            }
            // While a request is with the handler, one read per wake: what arrives is buffered
            // for later, bounded by `readAheadLimit`.
            switch readAvailable(connection, reads: connection.phase == .reading ? 4 : 1, now: now) {
            case .failed:
                closeConnection(connection)
                return
            case .closed:
                connection.inputClosed = true
            case .open:
                break
            }
            if connection.phase == .reading {
                process(connection, now: now)
                closeIfFinished(connection)
            } else {
                updateInterest(connection)
            }
        }
    }

    enum ReadResult { case open, closed, failed }

    /// Reads what the socket has, at most `reads` times (for fairness). `.closed` when the peer
    /// shut down its side (what it sent before is kept), `.failed` when the socket failed.
    private func readAvailable(_ connection: Connection, reads: Int, now: Int64) -> ReadResult {
        for _ in 0..<reads {
            let count = scratch.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                connection.parser.append(scratch[0..<count])
                connection.lastActivity = now
                if count < scratch.count { return .open }
            } else if count == 0 {
                return .closed
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return .open
            } else if errno != EINTR {
                return .failed
            }
        }
        return .open
    }

    /// A client that shut down its side is closed once everything it sent is answered.
    private func closeIfFinished(_ connection: Connection) {
        if connection.inputClosed && connection.phase == .reading && !connection.hasPendingOutput {
            closeConnection(connection)
        }
    }

    /// Takes the next complete request, if any, and hands it to the handler.
    private func process(_ connection: Connection, now: Int64) {
        guard connection.phase == .reading, !connection.hasPendingOutput else { return }
        let request: HTTPRequest?
        do {
            request = try connection.parser.next()
        } catch {
            respond(connection, .error(HTTPStatus(error.status), error.reason), headOnly: false, close: true, now: now)
            return
        }
        guard let request else {
            if connection.parser.isIdle {
                connection.requestStarted = nil
            } else if connection.requestStarted == nil {
                connection.requestStarted = now
            }
            if connection.parser.awaitsContinue && !connection.sentContinue {
                connection.sentContinue = true
                connection.enqueue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                flush(connection, now: now)
            }
            return
        }
        connection.requestStarted = nil
        connection.sentContinue = false
        let headOnly = request.method == "HEAD"
        if connection.rejected {
            respond(connection, .error(.serviceUnavailable, "too many open connections; try again later"),
                    headOnly: headOnly, close: true, now: now)
            return
        }
        connection.phase = .handling
        updateInterest(connection)
        let id = connection.id
        let keepAlive = request.keepAlive
        let handler = core.handler
        Task { [self] in
            let response = await handler(request)
            post(.response(id, response, headOnly: headOnly, keepAlive: keepAlive))
        }
    }

    private func respond(_ connection: Connection, _ response: HTTPResponse, headOnly: Bool, close: Bool, now: Int64) {
        connection.enqueue(response.serialized(headOnly: headOnly, close: close))
        connection.phase = close ? .closing : .reading
        flush(connection, now: now)
    }

    private func flush(_ connection: Connection, now: Int64) {
        switch connection.flush(now: now) {
        case .failed:
            closeConnection(connection)
        case .blocked:
            updateInterest(connection)
        case .done:
            if connection.phase == .closing {
                closeConnection(connection)
            } else {
                updateInterest(connection)
                // Pipelined requests may already be buffered.
                if connection.phase == .reading {
                    process(connection, now: now)
                    closeIfFinished(connection)
                }
            }
        }
    }

    // MARK: - Messages, timeouts, closing

    private func takeMessages(now: Int64) {
        // Empty the wake pipe into the read buffer (which holds nothing between reads), then
        // re-arm `post`, then take the mailbox: in this order a post racing with us either lands
        // in this batch or writes a new wake byte.
        _ = scratch.withUnsafeMutableBytes { read(wakeRead, $0.baseAddress, $0.count) }
        wakePending.store(false, ordering: .sequentiallyConsistent)
        let messages = mailbox.withLock { messages in
            defer { messages.removeAll(keepingCapacity: true) }
            return messages
        }
        for message in messages {
            switch message {
            case .response(let id, let response, let headOnly, let keepAlive):
                guard let connection = connections[id], connection.phase == .handling else { continue }
                respond(connection, response, headOnly: headOnly, close: !keepAlive || draining, now: now)
            case .drain:
                guard !draining else { continue }
                draining = true
                epoll_ctl(epollFD, EPOLL_CTL_DEL, core.listener.fd, nil)
                sweep(now: now)
            case .stop:
                stopping = true
            }
        }
    }

    /// Timeouts: a request that does not finish arriving gets 408; an idle keep-alive connection
    /// (any idle one while draining) and a client that does not read its response are closed.
    private func sweep(now: Int64) {
        let configuration = core.configuration
        for connection in Array(connections.values) {
            if connection.hasPendingOutput {
                if now - connection.lastActivity > configuration.writeTimeout.milliseconds { closeConnection(connection) }
                continue
            }
            guard connection.phase == .reading else { continue }
            if let started = connection.requestStarted {
                if now - started > configuration.requestReadTimeout.milliseconds {
                    respond(connection, .error(.requestTimeout, "the request did not arrive in time"),
                            headOnly: false, close: true, now: now)
                }
            } else if draining || now - connection.lastActivity > configuration.idleTimeout.milliseconds {
                closeConnection(connection)
            }
        }
    }

    private func updateInterest(_ connection: Connection) {
        var wanted: UInt32 = 0
        let wantsInput =
            switch connection.phase {
            case .reading: true
            case .handling: connection.parser.unparsedCount < Self.readAheadLimit
            case .closing: false
            }
        if wantsInput && !connection.inputClosed && !connection.hasPendingOutput { wanted |= CLINUX_EPOLLIN }
        if connection.hasPendingOutput { wanted |= CLINUX_EPOLLOUT }
        if !connection.registered {
            register(connection.fd, id: connection.id, events: wanted)
            connection.registered = true
        } else if wanted != connection.interest {
            clinux_epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, wanted, connection.id)
        }
        connection.interest = wanted
    }

    private func register(_ fd: Int32, id: UInt64, events: UInt32) {
        clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, events, id)
    }

    private func closeConnection(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        close(connection.fd)
        core.openConnections.subtract(1, ordering: .relaxed)
    }
}

func monotonicMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
