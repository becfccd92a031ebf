import Foundation
import Synchronization

/// What every event loop shares.
final class ServerCore: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    let listener: ListeningSocket
    let openConnections = Atomic<Int>(0)
    let nextConnectionID = Atomic<UInt64>(1)  // 0 and 1 are the loops' own epoll ids
    /// Connections over the cap that are still read so they can be answered 503.
    let rejectionAllowance = 64

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler, listener: ListeningSocket) {
        self.configuration = configuration
        self.handler = handler
        self.listener = listener
    }
}

/// A hand-written HTTP/1.1 server: non-blocking sockets under a few epoll loops (one thread each),
/// handlers run as tasks. Keep-alive, pipelining (answered in order), `100 Continue`, request-read
/// (408) and idle timeouts, a connection cap (503) and a graceful drain.
public final class HTTPServer: Sendable {
    /// The port bound (useful when the configuration asked for 0).
    public let port: Int
    private let core: ServerCore
    private let loops: [EventLoop]
    private let state = Mutex<(running: Int, shuttingDown: Bool, waiters: [CheckedContinuation<Void, Never>])>(
        (0, false, []))

    /// Binds and starts serving at once.
    public init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) throws(SocketError) {
        let listener = try ListeningSocket(host: configuration.host, port: configuration.port)
        core = ServerCore(configuration: configuration, handler: handler, listener: listener)
        var loops: [EventLoop] = []
        for _ in 0..<configuration.eventLoops { loops.append(try EventLoop(core: core)) }
        self.loops = loops
        port = listener.port
        state.withLock { $0.running = loops.count }
        for (index, loop) in loops.enumerated() {
            let thread = Thread { [self] in
                loop.run()
                loopStopped()
            }
            thread.name = "http-\(index)"
            thread.start()
        }
    }

    /// Open connections right now (over-cap ones included until they are answered).
    public var openConnections: Int { core.openConnections.load(ordering: .relaxed) }

    /// Stops accepting, lets requests in flight finish (their responses say `Connection: close`)
    /// for up to `drainTimeout`, then closes whatever is left. Returns when every loop has stopped.
    public func shutdown(drainTimeout: Duration = .seconds(10)) async {
        beginShutdown(drainTimeout: drainTimeout)
        await waitUntilStopped()
    }

    /// Serves until the task is cancelled (a service's graceful shutdown), then drains.
    public func serve(drainTimeout: Duration = .seconds(10)) async {
        await withTaskCancellationHandler {
            await waitUntilStopped()
        } onCancel: {
            beginShutdown(drainTimeout: drainTimeout)
        }
    }

    private func beginShutdown(drainTimeout: Duration) {
        let first = state.withLock { state in
            defer { state.shuttingDown = true }
            return !state.shuttingDown
        }
        guard first else { return }
        // On Linux closing a listening socket does not wake a thread in accept; shutdown does,
        // and refuses new connections at once.
        core.listener.shutdown()
        for loop in loops { loop.post(.drain) }
        let loops = self.loops
        Task.detached {
            try? await Task.sleep(for: drainTimeout)
            for loop in loops { loop.post(.stop) }
        }
    }

    private func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.running == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func loopStopped() {
        let waiters = state.withLock { state in
            state.running -= 1
            guard state.running == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
