import Glibc

/// One client connection, confined to the event loop that accepted it.
final class Connection {
    enum Phase {
        /// Reading the next request (or idle between requests).
        case reading
        /// A request is with the handler; nothing more is parsed until its response is queued, so
        /// pipelined requests are answered in order. The socket is still read (up to a cap), so a
        /// request/response cycle does not change the epoll interest twice.
        case handling
        /// The last response is being written; then the connection closes.
        case closing
    }

    let id: UInt64
    let fd: Int32
    /// Accepted over the connection cap: its request is answered 503, then it closes.
    let rejected: Bool
    var parser: HTTPRequestParser
    var phase = Phase.reading
    var output: [UInt8] = []
    var written = 0
    /// Monotonic milliseconds of the last byte read or written.
    var lastActivity: Int64
    /// When the first byte of the request being read arrived.
    var requestStarted: Int64?
    var sentContinue = false
    /// The client shut down its sending side: what it sent is still answered, then the
    /// connection closes.
    var inputClosed = false
    /// The interest registered with epoll, to skip redundant `epoll_ctl` calls.
    var interest: UInt32 = 0
    var registered = false

    init(id: UInt64, fd: Int32, rejected: Bool, limits: HTTPLimits, now: Int64) {
        self.id = id
        self.fd = fd
        self.rejected = rejected
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivity = now
    }

    var hasPendingOutput: Bool { written < output.count }

    /// Queues bytes for the socket.
    func enqueue(_ bytes: [UInt8]) {
        if written == output.count {
            output = bytes
            written = 0
        } else {
            output.append(contentsOf: bytes)
        }
    }

    enum WriteResult { case done, blocked, failed }

    /// Writes as much queued output as the socket takes. `MSG_NOSIGNAL`: a peer that went away
    /// gives `EPIPE`, never a SIGPIPE that would kill the process.
    func flush(now: Int64) -> WriteResult {
        while written < output.count {
            let sent = output.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + written, buffer.count - written, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                written += sent
                lastActivity = now
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return .blocked
            } else if sent < 0 && errno == EINTR {
                continue
            } else {
                return .failed
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        written = 0
        return .done
    }
}
