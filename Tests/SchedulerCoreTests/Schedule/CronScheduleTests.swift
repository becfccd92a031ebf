import Foundation
import Testing

@testable import SchedulerCore

/// Cron evaluation (SPEC §5): table tests around daylight-saving transitions, leap days and the
/// special characters. Times are written in UTC; comments give the wall clock.
@Suite struct CronScheduleTests {
    private func t(_ text: String) -> Timestamp { try! RFC3339.parse(text)! }

    /// The next `count` slots strictly after `after`.
    private func slots(_ cron: String, _ zone: String, after: String, count: Int) throws -> [String] {
        let schedule = try CronSchedule(cron: cron, timeZone: zone)
        var result: [String] = []
        var cursor = t(after)
        while result.count < count, let next = schedule.nextSlot(after: cursor) {
            result.append(RFC3339.format(next))
            cursor = next
        }
        return result
    }

    @Test(arguments: [
        // Europe/Berlin, spring forward 2025-03-30 02:00 CET → 03:00 CEST (01:00Z).
        ("30 2 * * *", "Europe/Berlin", "2025-03-29T12:00:00Z", [
            "2025-03-30T01:00:00.000Z",  // 02:30 does not exist: once, when the gap ends (03:00 CEST)
            "2025-03-31T00:30:00.000Z",  // 02:30 CEST
        ]),
        ("0,30 2,3 * * *", "Europe/Berlin", "2025-03-29T23:00:00Z", [
            "2025-03-30T01:00:00.000Z",  // 02:00 and 02:30 fall in the gap; 03:00 is the same instant: once
            "2025-03-30T01:30:00.000Z",  // 03:30 CEST
            "2025-03-31T00:00:00.000Z",  // 02:00 CEST
        ]),
        ("*/30 * * * *", "Europe/Berlin", "2025-03-30T00:00:00Z", [
            "2025-03-30T00:30:00.000Z",  // 01:30 CET
            "2025-03-30T01:00:00.000Z",  // 03:00 CEST: nothing at 02:xx, which does not exist
            "2025-03-30T01:30:00.000Z",
        ]),
        // Europe/Berlin, fall back 2025-10-26 03:00 CEST → 02:00 CET (01:00Z).
        ("30 2 * * *", "Europe/Berlin", "2025-10-25T12:00:00Z", [
            "2025-10-26T00:30:00.000Z",  // 02:30 CEST, the first occurrence only
            "2025-10-27T01:30:00.000Z",  // 02:30 CET
        ]),
        ("*/30 * * * *", "Europe/Berlin", "2025-10-26T00:00:00Z", [
            "2025-10-26T00:30:00.000Z",  // 02:30 CEST
            "2025-10-26T01:00:00.000Z",  // 02:00 CET, the repeated hour
            "2025-10-26T01:30:00.000Z",  // 02:30 CET
            "2025-10-26T02:00:00.000Z",  // 03:00 CET
        ]),
        ("0 */1 * * *", "Europe/Berlin", "2025-03-29T23:30:00Z", [
            "2025-03-30T00:00:00.000Z", "2025-03-30T01:00:00.000Z", "2025-03-30T02:00:00.000Z",
        ]),
        // America/New_York, spring forward 2025-03-09 02:00 EST → 03:00 EDT (07:00Z).
        ("30 2 * * *", "America/New_York", "2025-03-08T12:00:00Z", [
            "2025-03-09T07:00:00.000Z", "2025-03-10T06:30:00.000Z",
        ]),
        // America/New_York, fall back 2025-11-02 02:00 EDT → 01:00 EST (06:00Z).
        ("30 1 * * *", "America/New_York", "2025-11-01T12:00:00Z", [
            "2025-11-02T05:30:00.000Z",  // 01:30 EDT only
            "2025-11-03T06:30:00.000Z",
        ]),
        ("*/20 1 * * *", "America/New_York", "2025-11-02T04:50:00Z", [
            "2025-11-02T05:00:00.000Z", "2025-11-02T05:20:00.000Z", "2025-11-02T05:40:00.000Z",  // fixed hour: first pass
            "2025-11-03T06:00:00.000Z",
        ]),
        ("0 * * * *", "America/New_York", "2025-11-02T04:30:00Z", [
            "2025-11-02T05:00:00.000Z", "2025-11-02T06:00:00.000Z", "2025-11-02T07:00:00.000Z",  // 01 EDT, 01 EST, 02 EST
        ]),
        // Australia/Lord_Howe moves by 30 minutes: +10:30 → +11:00 at 02:00 on 2025-10-05 (15:30Z),
        // and back at 02:00 → 01:30 on 2025-04-06 (15:00Z).
        ("15 2 * * *", "Australia/Lord_Howe", "2025-10-04T00:00:00Z", [
            "2025-10-04T15:30:00.000Z",  // 02:15 is in the gap: at 02:30
            "2025-10-05T15:15:00.000Z",  // 02:15 +11:00
        ]),
        ("45 1 * * *", "Australia/Lord_Howe", "2025-04-05T00:00:00Z", [
            "2025-04-05T14:45:00.000Z",  // 01:45 +11:00, the first of two
            "2025-04-06T15:15:00.000Z",  // 01:45 +10:30
        ]),
        ("*/15 * * * *", "Australia/Lord_Howe", "2025-04-05T14:50:00Z", [
            "2025-04-05T15:00:00.000Z",  // 01:30 +10:30 (the repeat begins)
            "2025-04-05T15:15:00.000Z", "2025-04-05T15:30:00.000Z",
        ]),
        // Asia/Kathmandu, +05:45 all year.
        ("0 9 * * *", "Asia/Kathmandu", "2025-06-01T00:00:00Z", ["2025-06-01T03:15:00.000Z", "2025-06-02T03:15:00.000Z"]),
        // Leap days.
        ("0 0 29 2 *", "UTC", "2025-01-01T00:00:00Z", ["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"]),
        ("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", ["2104-02-29T00:00:00.000Z"]),
        ("0 12 29 2 *", "Europe/Berlin", "2027-06-01T00:00:00Z", ["2028-02-29T11:00:00.000Z"]),
        // L, W, #.
        ("0 0 L * *", "UTC", "2024-02-01T00:00:00Z", ["2024-02-29T00:00:00.000Z", "2024-03-31T00:00:00.000Z"]),
        ("0 0 L-2 * *", "UTC", "2025-02-01T00:00:00Z", ["2025-02-26T00:00:00.000Z", "2025-03-29T00:00:00.000Z"]),
        ("0 0 15W * *", "UTC", "2025-03-01T00:00:00Z", ["2025-03-14T00:00:00.000Z", "2025-04-15T00:00:00.000Z"]),
        ("0 0 1W * *", "UTC", "2025-02-15T00:00:00Z", ["2025-03-03T00:00:00.000Z", "2025-04-01T00:00:00.000Z"]),
        ("0 0 LW * *", "UTC", "2025-08-01T00:00:00Z", ["2025-08-29T00:00:00.000Z", "2025-09-30T00:00:00.000Z"]),
        ("0 0 * * 5#3", "UTC", "2025-01-01T00:00:00Z", ["2025-01-17T00:00:00.000Z", "2025-02-21T00:00:00.000Z"]),
        ("0 0 * * FRI#5", "UTC", "2025-01-01T00:00:00Z", ["2025-01-31T00:00:00.000Z", "2025-05-30T00:00:00.000Z"]),
        ("0 0 * * 5L", "UTC", "2025-01-01T00:00:00Z", ["2025-01-31T00:00:00.000Z", "2025-02-28T00:00:00.000Z"]),
        // Both day fields restricted: either matches (Vixie cron).
        ("0 0 13 * 5", "UTC", "2025-06-01T00:00:00Z", [
            "2025-06-06T00:00:00.000Z", "2025-06-13T00:00:00.000Z", "2025-06-20T00:00:00.000Z", "2025-06-27T00:00:00.000Z",
            "2025-07-04T00:00:00.000Z", "2025-07-11T00:00:00.000Z", "2025-07-13T00:00:00.000Z",
        ]),
        // Only one restricted: only it counts (`*` and `?` restrict nothing).
        ("0 0 13 * ?", "UTC", "2025-06-01T00:00:00Z", ["2025-06-13T00:00:00.000Z", "2025-07-13T00:00:00.000Z"]),
        ("0 0 ? * MON-FRI", "UTC", "2025-06-06T12:00:00Z", ["2025-06-09T00:00:00.000Z"]),
        // Seconds, names, macros, ranges with steps.
        ("*/20 * * * * *", "UTC", "2025-01-01T00:00:05Z", ["2025-01-01T00:00:20.000Z", "2025-01-01T00:00:40.000Z", "2025-01-01T00:01:00.000Z"]),
        ("0 0 * JAN,jul 0", "UTC", "2025-01-20T00:00:00Z", ["2025-01-26T00:00:00.000Z", "2025-07-06T00:00:00.000Z"]),
        ("0 10-14/2 * * 7", "UTC", "2025-06-01T00:00:00Z", ["2025-06-01T10:00:00.000Z", "2025-06-01T12:00:00.000Z", "2025-06-01T14:00:00.000Z", "2025-06-08T10:00:00.000Z"]),
        ("@hourly", "UTC", "2025-01-01T00:30:00Z", ["2025-01-01T01:00:00.000Z"]),
        ("@weekly", "UTC", "2025-01-01T00:00:00Z", ["2025-01-05T00:00:00.000Z"]),
        ("@yearly", "Europe/Berlin", "2025-01-01T00:00:00Z", ["2025-12-31T23:00:00.000Z"]),
        ("@monthly", "UTC", "2025-01-31T23:59:59.999Z", ["2025-02-01T00:00:00.000Z"]),
    ])
    func nextSlots(_ cron: String, _ zone: String, _ after: String, _ expected: [String]) throws {
        #expect(try slots(cron, zone, after: after, count: expected.count) == expected)
    }

    @Test func firstSlotAtOrAfterKeepsAnInstantThatMatches() throws {
        let schedule = try CronSchedule(cron: "0 */6 * * *", timeZone: "UTC")
        #expect(schedule.firstSlot(atOrAfter: t("2025-01-01T06:00:00Z")) == t("2025-01-01T06:00:00Z"))
        #expect(schedule.firstSlot(atOrAfter: t("2025-01-01T06:00:00.001Z")) == t("2025-01-01T12:00:00Z"))
        #expect(schedule.nextSlot(after: t("2025-01-01T06:00:00Z")) == t("2025-01-01T12:00:00Z"))
    }

    @Test(arguments: [
        ("* * * *", "5 fields"), ("61 * * * *", "field 1 (minute) '61': value 61 is outside 0–59"),
        ("* 24 * * *", "field 2 (hour) '24'"), ("* * 0 * *", "field 3 (day-of-month) '0'"),
        ("* * * 13 *", "field 4 (month) '13'"), ("* * * FOO *", "'FOO' is not a number or JAN–DEC"),
        ("* * * * 8", "field 5 (day-of-week) '8'"), ("*/0 * * * *", "step 0 is outside"),
        ("5-1 * * * *", "runs backwards"), ("* ? * * *", "'?' is only allowed"), ("* * * * 5#6", "outside 1–5"),
        ("0 0 30 2 *", "never fires"), ("@fortnightly", "unknown cron macro"), ("1,,2 * * * *", "empty list item"),
        ("60 * * * * *", "field 1 (second)"),
    ])
    func badExpressionsNameTheirField(_ cron: String, _ message: String) {
        do {
            _ = try CronExpression(parsing: cron)
            Issue.record("'\(cron)' was accepted")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func hourFieldDecidesFixedWallClockBehaviour() throws {
        #expect(try CronExpression(parsing: "0 2 * * *").hourIsFixed)
        #expect(try CronExpression(parsing: "0 1,2 * * *").hourIsFixed)
        #expect(try CronExpression(parsing: "0 1-3 * * *").hourIsFixed)
        #expect(try !CronExpression(parsing: "0 * * * *").hourIsFixed)
        #expect(try !CronExpression(parsing: "0 */2 * * *").hourIsFixed)
        #expect(try !CronExpression(parsing: "0 1-5/2 * * *").hourIsFixed)
    }

    @Test func everyInstantMatchesItsOwnFieldsInTheZone() throws {
        // Random expressions, each next slot checked against the fields in local time (Foundation).
        var generator = SplitMix(seed: 7)
        for zoneName in ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"] {
            let zone = TimeZone(identifier: zoneName)!
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            for _ in 0..<200 {
                let minute = Int(generator.next() % 60)
                let hourStep = Int(generator.next() % 5) + 1
                let cron = "\(minute) */\(hourStep) * * *"
                let schedule = try CronSchedule(cron: cron, timeZone: zoneName)
                var cursor = Timestamp(milliseconds: 1_735_689_600_000 + Int64(generator.next() % 31_536_000_000))
                for _ in 0..<20 {
                    let next = try #require(schedule.nextSlot(after: cursor))
                    #expect(next > cursor)
                    let parts = calendar.dateComponents([.hour, .minute, .second], from: next.date)
                    #expect(parts.minute == minute && parts.second == 0 && parts.hour! % hourStep == 0, "\(cron) \(zoneName) \(next)")
                    cursor = next
                }
            }
        }
    }
}

/// A small seeded generator, so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
