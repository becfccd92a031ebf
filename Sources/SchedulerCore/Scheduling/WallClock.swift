import Synchronization

/// Wall-clock time as the scheduler sees it: slots are wall-clock instants. Injected, so
/// schedule logic is tested with `ManualClock` instead of sleeps.
public protocol WallClock: Sendable {
    func now() -> Timestamp
    /// Returns at or after `deadline` (never before: no early fires).
    func sleep(until deadline: Timestamp) async throws
}

/// The system's clock.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Timestamp { .now }

    public func sleep(until deadline: Timestamp) async throws {
        while true {
            let left = deadline.milliseconds(since: .now)
            if left <= 0 { return }
            try await Task.sleep(for: .milliseconds(left))
        }
    }
}

/// A clock that moves only when told, for tests.
public final class ManualClock: WallClock {
    private struct Waiter {
        let deadline: Timestamp
        let continuation: CheckedContinuation<Void, Error>
    }

    private let state: Mutex<(now: Timestamp, waiters: [Int: Waiter], next: Int)>

    public init(_ start: Timestamp) { state = Mutex((start, [:], 0)) }

    public func now() -> Timestamp { state.withLock { $0.now } }

    /// Moves time forward to `time` and wakes the sleepers it reaches.
    public func advance(to time: Timestamp) {
        let woken = state.withLock { state -> [Waiter] in
            state.now = max(state.now, time)
            let due = state.waiters.filter { $0.value.deadline <= state.now }
            for key in due.keys { state.waiters[key] = nil }
            return Array(due.values)
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    /// Moves time forward by `milliseconds`.
    public func advance(by milliseconds: Int64) { advance(to: now().adding(milliseconds: milliseconds)) }

    public func sleep(until deadline: Timestamp) async throws {
        let id = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let ready = state.withLock { state -> Bool in
                    if state.now >= deadline || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(deadline: deadline, continuation: continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}
