/// A parsed cron expression (SPEC §5): `second minute hour day-of-month month day-of-week`,
/// the seconds field optional (5 fields mean second 0).
///
/// Every field is a bit set, so matching is a few shifts. Day of week is 0–7 with 0 and 7 both
/// Sunday (Vixie cron, Spring, Cronos). When both day fields are restricted (their values are not
/// the whole range, or they use `L`, `W` or `#`), a day matches if **either** matches — Vixie
/// cron's rule; when only one is restricted, only that one counts.
public struct CronExpression: Hashable, Sendable, CustomStringConvertible {
    /// Bits 0–59.
    var seconds: UInt64 = 0
    /// Bits 0–59.
    var minutes: UInt64 = 0
    /// Bits 0–23.
    var hours: UInt32 = 0
    /// Bits 1–31: plain days of month.
    var daysOfMonth: UInt32 = 0
    /// Bits 1–12.
    var months: UInt16 = 0
    /// Bits 0–6, 0 = Sunday: plain weekdays.
    var weekdays: UInt8 = 0
    /// `L` (or `L-n`) in day-of-month: the last day of the month, `n` days before it.
    var lastDayOfMonthOffsets: UInt32 = 0
    /// `dW`: bit `d` set means the weekday (Monday–Friday) nearest day `d`, within the month.
    var nearestWeekdays: UInt32 = 0
    /// `LW`: the last weekday (Monday–Friday) of the month.
    var lastWeekdayOfMonth = false
    /// `dL` in day-of-week: the last such weekday of the month (bit per weekday).
    var lastWeekdaysOfMonth: UInt8 = 0
    /// `d#n` in day-of-week: bit `weekday * 5 + (n - 1)`.
    var nthWeekdays: UInt64 = 0
    var dayOfMonthRestricted = false
    var dayOfWeekRestricted = false
    /// SPEC §5: an hour field that is a single value, a list or a range without a step is
    /// *fixed*; DST gaps and repeats are then handled as wall-clock times that fire once.
    public internal(set) var hourIsFixed = true
    /// The text as written.
    public let text: String

    init(text: String) { self.text = text }

    public var description: String { text }
}
