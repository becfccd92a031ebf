import Foundation

/// Dedicated threads for blocking C calls (libmongoc, SQLite), so they never occupy
/// Swift's cooperative pool, which has only as many threads as cores (two here).
///
/// Work is queued FIFO and taken by the first free thread; a one-thread executor is
/// a serial queue, which is how a single SQLite connection stays confined to one thread.
public final class BlockingExecutor: @unchecked Sendable {
    // @unchecked: `queue` and `stopped` are only touched while holding `condition`.
    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var stopped = false

    /// Starts `threads` threads named `name`.
    public init(name: String, threads: Int) {
        precondition(threads > 0)
        for index in 0..<threads {
            let thread = Thread { [self] in self.work() }
            thread.name = threads == 1 ? name : "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on one of the executor's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Queues `body` without waiting for it.
    public func submit(_ body: @escaping () -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            body()  // after shutdown the caller's thread runs it rather than leaving a continuation hanging
            return
        }
        queue.append(body)
        condition.signal()
        condition.unlock()
    }

    /// Lets queued work finish, then ends the threads. The owner calls it: the threads
    /// keep the executor alive until then.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            condition.unlock()
            job()
        }
    }
}
