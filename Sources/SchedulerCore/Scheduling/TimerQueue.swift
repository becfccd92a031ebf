/// When each managed job is next due: one binary min-heap for all jobs, not a task per job.
///
/// Rescheduling a job does not search the heap: the job's latest due time is kept in a map and
/// stale heap entries are skipped when they surface (lazy deletion), so every operation is
/// O(log n) and 100,000 jobs cost two small arrays and a dictionary.
public struct TimerQueue: Sendable {
    private struct Entry: Sendable {
        var due: Timestamp
        var job: String
    }

    private var heap: [Entry] = []
    private var current: [String: Timestamp] = [:]

    public init() {}

    /// Jobs scheduled.
    public var count: Int { current.count }

    /// Schedules `job` at `due`, replacing its earlier time; `nil` unschedules it.
    public mutating func schedule(_ job: String, at due: Timestamp?) {
        guard let due else {
            current[job] = nil
            return
        }
        guard current[job] != due else { return }
        current[job] = due
        heap.append(Entry(due: due, job: job))
        siftUp(heap.count - 1)
        if heap.count > 64 && heap.count > 4 * current.count { compact() }
    }

    /// The earliest due time.
    public mutating func nextDue() -> Timestamp? {
        dropStale()
        return heap.first?.due
    }

    /// Removes and returns every job due at or before `now`, earliest first.
    public mutating func popDue(_ now: Timestamp) -> [String] {
        var due: [String] = []
        while true {
            dropStale()
            guard let top = heap.first, top.due <= now else { return due }
            removeTop()
            current[top.job] = nil
            due.append(top.job)
        }
    }

    private mutating func dropStale() {
        while let top = heap.first, current[top.job] != top.due { removeTop() }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private mutating func compact() {
        heap = current.map { Entry(due: $0.value, job: $0.key) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].due < heap[left].due { smallest = left + 1 }
            guard heap[smallest].due < heap[parent].due else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
