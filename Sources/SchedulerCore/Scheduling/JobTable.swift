/// Everything a scheduler instance keeps per job it knows: the held job as firing reads it,
/// when it is next due, its consumer subscriptions, and whether its topology is declared.
///
/// One record per job in a dense array, found through one name index, with one binary min-heap
/// of due times for all jobs. An instance may hold 100,000 jobs; a dictionary per concern (jobs,
/// due times, subscriptions, declared names) cost about 1 KB per job, because every Swift
/// dictionary is between 3/8 and 3/4 full and each held a full `Job`.
struct JobTable: Sendable {
    /// A held job without what the table knows otherwise (its name, its holder): durations in
    /// milliseconds as `Job` has them, counts narrowed to the 0–1,000,000 validation allows.
    struct HeldJob: Sendable {
        var nextRunAt: Int64
        var interval: Int64
        var runExecutionTimeout: Int64
        var runStartTimeout: Int64
        var heartbeatTimeout: Int64
        var catchUpWindow: Int64
        var retryDelay: Int64
        var maxQueueCount: Int32
        var maxRetries: Int32
        /// Cron and time zone when either differs from "no cron, UTC": one reference instead of two strings.
        var zoned: ZonedSchedule?
        var enabled: Bool
        var allowConcurrentRuns: Bool

        /// `nextRunAt` when the job has none.
        static let never = Int64.min

        init(_ job: Job) {
            nextRunAt = job.nextRunAt?.milliseconds ?? Self.never
            interval = Int64(job.interval)
            runExecutionTimeout = Int64(job.runExecutionTimeout)
            runStartTimeout = Int64(job.runStartTimeout)
            heartbeatTimeout = Int64(job.heartbeatTimeout)
            catchUpWindow = Int64(job.catchUpWindow)
            retryDelay = Int64(job.retryDelay)
            maxQueueCount = Int32(clamping: job.maxQueueCount)
            maxRetries = Int32(clamping: job.maxRetries)
            zoned =
                job.cron == nil && job.timezone == "UTC"
                ? nil : ZonedSchedule(cron: job.cron, timezone: job.timezone)
            enabled = job.enabled
            allowConcurrentRuns = job.allowConcurrentRuns
        }

        func job(named name: String, managerId: String) -> Job {
            Job(
                name: name, enabled: enabled,
                nextRunAt: nextRunAt == Self.never ? nil : Timestamp(milliseconds: nextRunAt),
                interval: Int(interval), cron: zoned?.cron, timezone: zoned?.timezone ?? "UTC",
                runExecutionTimeout: Int(runExecutionTimeout), runStartTimeout: Int(runStartTimeout),
                heartbeatTimeout: Int(heartbeatTimeout), allowConcurrentRuns: allowConcurrentRuns,
                maxQueueCount: Int(maxQueueCount), catchUpWindow: Int(catchUpWindow), maxRetries: Int(maxRetries),
                retryDelay: Int(retryDelay), managerId: managerId)
        }
    }

    final class ZonedSchedule: Sendable {
        let cron: String?
        let timezone: String

        init(cron: String?, timezone: String) {
            self.cron = cron
            self.timezone = timezone
        }
    }

    private struct Record: Sendable {
        var name: String
        /// `nil` when the job is not held: its queues are still consumed while it has open runs.
        var job: HeldJob?
        /// When the job is next due, `unscheduled` when it is not in the heap.
        var due = Self.unscheduled
        /// Subscription ids of the status and heartbeat queues, `nil` when not consumed.
        var subscriptions: (status: Int, heartbeat: Int)?
        var declared = false
        /// Held (again) since the last `beginSweep`: in the record's padding, so free.
        var seen = false

        static let unscheduled = Int64.min

        var isEmpty: Bool { job == nil && subscriptions == nil }
    }

    private struct Entry: Sendable {
        var due: Int64
        var slot: Int32
    }

    /// Held jobs are reconstructed with this holder.
    let managerID: String
    private var index = NameIndex()
    private var records: [Record?] = []
    private var freeSlots: [Int32] = []
    /// Due times, stale entries skipped when they surface: an entry counts while its slot's
    /// record has the same due time. A reused slot's new job is only ever fired at its own due time.
    private var heap: [Entry] = []
    private var scheduled = 0
    /// Jobs held.
    private(set) var heldCount = 0
    /// Jobs whose queues are consumed.
    private(set) var subscribedCount = 0

    init(managerID: String) {
        self.managerID = managerID
    }

    // MARK: Held jobs

    /// The held job named `name`; setting `nil` stops holding it (and unschedules it).
    subscript(name: String) -> Job? {
        get {
            guard let slot = index.slot(of: name, in: records), let held = records[Int(slot)]!.job else { return nil }
            return held.job(named: name, managerId: managerID)
        }
        set {
            if let newValue {
                update(name, create: true) { record in
                    record.job = HeldJob(newValue)
                    record.seen = true
                }
            } else {
                update(name, create: false) { $0.job = nil }
                schedule(name, at: nil)
            }
        }
    }

    /// Moves a held job's `nextRunAt` after a fire, returning the job as it is now.
    mutating func setNextRunAt(_ nextRunAt: Timestamp?, of name: String) -> Job? {
        guard let slot = index.slot(of: name, in: records), records[Int(slot)]!.job != nil else { return nil }
        records[Int(slot)]!.job!.nextRunAt = nextRunAt?.milliseconds ?? HeldJob.never
        // The slot found above, not a second lookup: this runs once per fire.
        return records[Int(slot)]!.job!.job(named: name, managerId: managerID)
    }

    var isEmpty: Bool { heldCount == 0 }

    /// Names of the held jobs, in no particular order.
    var heldNames: [String] {
        var names: [String] = []
        names.reserveCapacity(heldCount)
        for case let record? in records where record.job != nil { names.append(record.name) }
        return names
    }

    func isHeld(_ name: String) -> Bool {
        index.slot(of: name, in: records).map { records[Int($0)]!.job != nil } ?? false
    }

    /// Starts a sweep: from now on every job held (set through the subscript) counts as seen,
    /// and `unseenHeldNames` lists those that were not. A re-read of the held jobs in pages uses
    /// it to find the jobs the database no longer gives this instance, without a set of names.
    mutating func beginSweep() {
        for slot in records.indices where records[slot] != nil { records[slot]!.seen = false }
    }

    /// Held jobs not held again since `beginSweep`.
    var unseenHeldNames: [String] {
        var names: [String] = []
        for case let record? in records where record.job != nil && !record.seen { names.append(record.name) }
        return names
    }

    // MARK: Due times

    /// Schedules `name` at `due`, replacing its earlier time; `nil` unschedules it. Only known
    /// jobs are scheduled.
    mutating func schedule(_ name: String, at due: Timestamp?) {
        guard let slot = index.slot(of: name, in: records) else { return }
        let milliseconds = due?.milliseconds ?? Record.unscheduled
        let previous = records[Int(slot)]!.due
        guard previous != milliseconds else { return }
        records[Int(slot)]!.due = milliseconds
        if previous == Record.unscheduled { scheduled += 1 }
        guard due != nil else {
            scheduled -= 1
            return
        }
        heap.append(Entry(due: milliseconds, slot: slot))
        siftUp(heap.count - 1)
        if heap.count > 64 && heap.count > 4 * scheduled { compact() }
    }

    /// The earliest due time.
    mutating func nextDue() -> Timestamp? {
        dropStale()
        return heap.first.map { Timestamp(milliseconds: $0.due) }
    }

    /// Removes and returns every job due at or before `now`, earliest first.
    mutating func popDue(_ now: Timestamp) -> [String] {
        var due: [String] = []
        while true {
            dropStale()
            guard let top = heap.first, top.due <= now.milliseconds else { return due }
            removeTop()
            records[Int(top.slot)]!.due = Record.unscheduled
            scheduled -= 1
            due.append(records[Int(top.slot)]!.name)
        }
    }

    // MARK: Bus state

    /// The status and heartbeat subscription ids of `name`.
    func subscriptions(of name: String) -> (status: Int, heartbeat: Int)? {
        index.slot(of: name, in: records).flatMap { records[Int($0)]!.subscriptions }
    }

    mutating func setSubscriptions(_ ids: (status: Int, heartbeat: Int)?, of name: String) {
        update(name, create: ids != nil) { $0.subscriptions = ids }
    }

    /// Names whose queues are consumed.
    var subscribedNames: [String] {
        records.compactMap { record in record?.subscriptions == nil ? nil : record!.name }
    }

    func isDeclared(_ name: String) -> Bool {
        index.slot(of: name, in: records).map { records[Int($0)]!.declared } ?? false
    }

    /// Remembers that `name`'s topology is declared, while the table knows the job; a job
    /// neither held nor consumed is declared again when it next needs its topology.
    mutating func setDeclared(_ name: String) {
        update(name, create: false) { $0.declared = true }
    }

    // MARK: Records

    /// Applies `change` to the record of `name` (a new one when `create`), keeps the counts, and
    /// frees the record when nothing is left in it.
    private mutating func update(_ name: String, create: Bool, _ change: (inout Record) -> Void) {
        let slot: Int32
        if let existing = index.slot(of: name, in: records) {
            slot = existing
        } else {
            guard create else { return }
            if let reused = freeSlots.popLast() {
                slot = reused
                records[Int(slot)] = Record(name: name)
            } else {
                slot = Int32(records.count)
                records.append(Record(name: name))
            }
            index.insert(slot, in: records)
        }
        let wasHeld = records[Int(slot)]!.job != nil
        let wasSubscribed = records[Int(slot)]!.subscriptions != nil
        change(&records[Int(slot)]!)
        heldCount += (records[Int(slot)]!.job != nil ? 1 : 0) - (wasHeld ? 1 : 0)
        subscribedCount += (records[Int(slot)]!.subscriptions != nil ? 1 : 0) - (wasSubscribed ? 1 : 0)
        if records[Int(slot)]!.isEmpty {
            if records[Int(slot)]!.due != Record.unscheduled { scheduled -= 1 }
            index.remove(slot, in: records)
            records[Int(slot)] = nil
            freeSlots.append(slot)
        }
    }

    /// The slot of each record by name: open addressing with linear probing over record slots,
    /// the names read from the records themselves, at most half full. A `[String: Int32]` kept
    /// every name a second time, about 50 bytes per job; this costs 8 to 16.
    private struct NameIndex: Sendable {
        private var buckets: [Int32] = []
        private var count = 0
        private static let empty: Int32 = -1

        func slot(of name: String, in records: [Record?]) -> Int32? {
            guard !buckets.isEmpty else { return nil }
            let mask = buckets.count - 1
            var position = Self.home(name, mask)
            while true {
                let slot = buckets[position]
                if slot == Self.empty { return nil }
                if records[Int(slot)]!.name == name { return slot }
                position = (position + 1) & mask
            }
        }

        /// Indexes `slot`, whose record (not yet indexed) is in `records`.
        mutating func insert(_ slot: Int32, in records: [Record?]) {
            count += 1
            guard count * 2 <= buckets.count else {
                // Rebuilt at twice the size, the new record with the others.
                buckets = Array(repeating: Self.empty, count: max(16, buckets.count * 2))
                for (slot, record) in records.enumerated() where record != nil { place(Int32(slot), records) }
                return
            }
            place(slot, records)
        }

        /// Removes `slot`, whose record is still in `records`.
        mutating func remove(_ slot: Int32, in records: [Record?]) {
            let mask = buckets.count - 1
            var hole = Self.home(records[Int(slot)]!.name, mask)
            while buckets[hole] != slot { hole = (hole + 1) & mask }
            // Backward-shift deletion: later entries of the probe run move into the hole when
            // the hole lies between their home bucket and where they are, so no lookup that
            // passes the hole ends early.
            var next = hole
            while true {
                next = (next + 1) & mask
                let moving = buckets[next]
                if moving == Self.empty { break }
                let home = Self.home(records[Int(moving)]!.name, mask)
                if (next - home) & mask >= (next - hole) & mask {
                    buckets[hole] = moving
                    hole = next
                }
            }
            buckets[hole] = Self.empty
            count -= 1
        }

        private mutating func place(_ slot: Int32, _ records: [Record?]) {
            let mask = buckets.count - 1
            var position = Self.home(records[Int(slot)]!.name, mask)
            while buckets[position] != Self.empty { position = (position + 1) & mask }
            buckets[position] = slot
        }

        private static func home(_ name: String, _ mask: Int) -> Int { name.hashValue & mask }
    }

    private mutating func dropStale() {
        while let top = heap.first, records[Int(top.slot)]?.due != top.due { removeTop() }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private mutating func compact() {
        heap = records.indices.compactMap { slot in
            guard let due = records[slot]?.due, due != Record.unscheduled else { return nil }
            return Entry(due: due, slot: Int32(slot))
        }
        for position in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(position) }
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
