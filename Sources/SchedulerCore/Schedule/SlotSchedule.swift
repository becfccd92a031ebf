/// The slots of a job's schedule: instants at which it is due.
///
/// Interval and one-shot schedules are here; cron schedules conform in their own file.
public protocol SlotSchedule: Sendable {
    /// The first slot strictly after `instant`, or `nil` when the schedule has no more.
    func nextSlot(after instant: Timestamp) -> Timestamp?

    /// How many slots lie in `[first, through]`, and the first of them at or after `boundary`,
    /// given that `first` is itself a slot. Conformers with a closed form override this.
    func countSlots(from first: Timestamp, through: Timestamp, boundary: Timestamp) -> SlotCount
}

/// Slots counted in a range: `count` in all, `beforeBoundary` of them older than the boundary,
/// `firstAtBoundary` the oldest one that is not, and `next` the first slot after the range.
public struct SlotCount: Hashable, Sendable {
    public var count: Int
    public var beforeBoundary: Int
    public var firstAtBoundary: Timestamp?
    public var next: Timestamp?
}

extension SlotSchedule {
    public func countSlots(from first: Timestamp, through: Timestamp, boundary: Timestamp) -> SlotCount {
        var result = SlotCount(count: 0, beforeBoundary: 0, firstAtBoundary: nil, next: first)
        while let slot = result.next, slot <= through {
            result.count += 1
            if slot < boundary {
                result.beforeBoundary += 1
            } else if result.firstAtBoundary == nil {
                result.firstAtBoundary = slot
            }
            result.next = nextSlot(after: slot)
        }
        return result
    }
}

/// Every `interval` ms on the grid `anchor + k·interval` (SPEC §5).
public struct IntervalSchedule: SlotSchedule {
    public let anchor: Timestamp
    public let interval: Int64

    public init(anchor: Timestamp, interval: Int) {
        precondition(interval > 0)
        self.anchor = anchor
        self.interval = Int64(interval)
    }

    public func nextSlot(after instant: Timestamp) -> Timestamp? {
        guard instant >= anchor else { return anchor }
        let steps = instant.milliseconds(since: anchor) / interval + 1
        return anchor.adding(milliseconds: steps * interval)
    }

    // Closed form: a job that was down for a year at one slot per second costs nothing to plan.
    public func countSlots(from first: Timestamp, through: Timestamp, boundary: Timestamp) -> SlotCount {
        guard first <= through else { return SlotCount(count: 0, beforeBoundary: 0, firstAtBoundary: nil, next: first) }
        let count = through.milliseconds(since: first) / interval + 1
        let next = first.adding(milliseconds: count * interval)
        let before: Int64 =
            boundary <= first ? 0 : min(count, (boundary.milliseconds(since: first) + interval - 1) / interval)
        let firstAtBoundary = before < count ? first.adding(milliseconds: before * interval) : nil
        return SlotCount(count: Int(count), beforeBoundary: Int(before), firstAtBoundary: firstAtBoundary, next: next)
    }
}

/// One slot, at `at`; nothing after it.
public struct OneShotSchedule: SlotSchedule {
    public let at: Timestamp

    public init(at: Timestamp) { self.at = at }

    public func nextSlot(after instant: Timestamp) -> Timestamp? {
        instant < at ? at : nil
    }
}
