/// What a job's due slots become at one moment (SPEC §5): missed slots within the catch-up
/// window collapse into one run, older ones into one `missed` record, and `nextRunAt` moves to
/// the first slot strictly after now.
public struct DueSlots: Hashable, Sendable {
    /// One slot fate to record: a run for `slot` standing for `missedSlots` more, or a `missed` record.
    public struct Fire: Hashable, Sendable {
        public enum Fate: Hashable, Sendable {
            case run
            case missed
        }

        /// The oldest slot it stands for; the run's `createdTime`.
        public var slot: Timestamp
        /// How many slots it stands for besides `slot`.
        public var missedSlots: Int
        public var fate: Fate
    }

    /// Oldest first: the `missed` record (if any), then the run (if any).
    public var fires: [Fire]
    /// The new `nextRunAt`; `nil` when the schedule has no further slot.
    public var nextRunAt: Timestamp?

    /// Plans the slots of `schedule` from `nextRunAt` (the oldest slot without a fate) up to `now`.
    /// `catchUpWindow` 0 means no limit: every due slot joins the catch-up run.
    public static func plan(
        schedule: any SlotSchedule, nextRunAt: Timestamp?, now: Timestamp, catchUpWindow: Int
    ) -> DueSlots {
        guard let first = nextRunAt, first <= now else { return DueSlots(fires: [], nextRunAt: nextRunAt) }
        let boundary = catchUpWindow > 0 ? now.adding(milliseconds: -Int64(catchUpWindow)) : first
        let slots = schedule.countSlots(from: first, through: now, boundary: boundary)
        var fires: [Fire] = []
        if slots.beforeBoundary > 0 {
            fires.append(Fire(slot: first, missedSlots: slots.beforeBoundary - 1, fate: .missed))
        }
        if let oldest = slots.firstAtBoundary {
            fires.append(Fire(slot: oldest, missedSlots: slots.count - slots.beforeBoundary - 1, fate: .run))
        }
        return DueSlots(fires: fires, nextRunAt: slots.next)
    }
}

extension Job {
    /// The schedule this job's fields describe, anchored at `nextRunAt`; `nil` when nothing is
    /// scheduled (and for a cron expression or zone that does not parse, which validation refuses).
    public var slotSchedule: (any SlotSchedule)? {
        guard let nextRunAt else { return nil }
        switch scheduleKind {
        case .interval: return IntervalSchedule(anchor: nextRunAt, interval: interval)
        case .oneShot: return OneShotSchedule(at: nextRunAt)
        case .cron: return cronSchedule
        }
    }

    /// The job's cron schedule in its time zone, when it has a valid one.
    public var cronSchedule: CronSchedule? {
        guard let cron else { return nil }
        return try? CronSchedule(cron: cron, timeZone: timezone)
    }
}
