import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// Our cron evaluator against Python's croniter over 100,000 random (expression, instant) pairs,
/// in UTC and in zones with daylight saving. Every disagreement must be an intended one: near a
/// zone transition, where SPEC §5's rules differ from croniter's (docs/cron.md lists them).
@Suite struct CronDifferentialTests {
    static let zones = ["UTC", "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]

    /// A random expression in the syntax both sides accept (croniter has no `W` and no `dL`).
    static func expression(_ random: inout SplitMix) -> String {
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        func field(_ range: ClosedRange<Int>, names: [String] = []) -> String {
            let low = range.lowerBound
            let span = range.count
            switch pick(8) {
            case 0, 1: return "*"
            case 2: return "*/\(pick(span / 2) + 1)"
            case 3:
                let a = low + pick(span)
                return "\(a)-\(min(range.upperBound, a + pick(span)))"
            case 4:
                let a = low + pick(span)
                return "\(a)-\(min(range.upperBound, a + pick(span)))/\(pick(5) + 1)"
            case 5:
                return (0..<(pick(3) + 2)).map { _ in String(low + pick(span)) }.joined(separator: ",")
            case 6 where !names.isEmpty: return names[pick(names.count)]
            default: return String(low + pick(span))
            }
        }
        let seconds = pick(5) == 0 ? field(0...59) + " " : ""
        let minute = field(0...59)
        let hour = field(0...23)
        var dayOfMonth = field(1...28)
        if pick(12) == 0 { dayOfMonth = "L" }
        let month = field(1...12, names: CronExpression.monthNames)
        var dayOfWeek = field(0...6, names: CronExpression.dayNames)
        if pick(12) == 0 { dayOfWeek = "\(pick(7))#\(pick(4) + 1)" }
        return "\(seconds)\(minute) \(hour) \(dayOfMonth) \(month) \(dayOfWeek)"
    }

    @Test func agreesWithCroniterExceptAtDaylightSavingTransitions() async throws {
        let python = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_PYTHON")
        let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Oracles/croniter_oracle.py").path
        var random = SplitMix(seed: 20_251_129)
        var questions: [(cron: String, zone: String, after: Int64)] = []
        var text = ""
        while questions.count < 100_000 {
            let cron = Self.expression(&random)
            guard (try? CronExpression(parsing: cron)) != nil else { continue }  // e.g. a range that never fires
            let zone = Self.zones[Int(random.next() % UInt64(Self.zones.count))]
            // 2000-01-01 … 2040-01-01, whole seconds.
            let after = 946_684_800 + Int64(random.next() % 1_262_304_000)
            questions.append((cron, zone, after))
            text += "\(cron)\t\(zone)\t\(after)\n"
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cron-questions-\(UUID().uuidString)")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        // Niced: the oracle needs about a minute of CPU, and the tests running beside it have
        // timing bounds of their own.
        let (status, answers, errors) = try await runProgram(
            "/usr/bin/nice", ["-n", "19", python, oracle, file.path], environment: ["PATH": "/usr/bin:/bin"])
        #expect(status == 0, "\(errors)")
        let lines = answers.split(separator: "\n", omittingEmptySubsequences: false).prefix(questions.count)
        #expect(lines.count == questions.count)

        // The comparison is CPU-bound: on a thread of its own, not on the cooperative pool that
        // the other tests' servers and handlers need.
        let answerLines = lines.map(String.init)
        let asked = questions
        let (counts, samples, unexplained) = await onOwnThread { () -> ([String: Int], [String: [String]], [String]) in
            var counts: [String: Int] = [:]
            var samples: [String: [String]] = [:]
            var unexplained: [String] = []
            for (question, answer) in zip(asked, answerLines) {
                let schedule = try! CronSchedule(cron: question.cron, timeZone: question.zone)
                let ours = schedule.nextSlot(after: Timestamp(milliseconds: question.after * 1000)).map { $0.milliseconds / 1000 }
                let theirs = Int64(answer)
                if ours == theirs {
                    counts["agree", default: 0] += 1
                    continue
                }
                let check = FieldCheck(schedule: schedule, zone: question.zone)
                // SPEC §5's rules act within an hour or two of a transition.
                let near = { (instant: Int64) -> Bool in
                    schedule.zone.segment(containing: instant - 3 * 3600) != schedule.zone.segment(containing: instant + 3 * 3600)
                }
                let describe = "\(question.cron) in \(question.zone) after \(question.after): ours \(ours.map(String.init) ?? "none"), croniter \(answer)"
                guard let ours else {
                    unexplained.append(describe)
                    continue
                }
                // Ours must match every field on the zone's wall clock, except where SPEC §5 moves a
                // fixed time out of a gap.
                guard check.matches(ours) || near(ours) else {
                    unexplained.append("ours does not match: " + describe)
                    continue
                }
                let reason: String
                if let theirs {
                    if theirs < ours && check.matches(theirs) {
                        // croniter found an earlier match: only the once-only rule for a repeated
                        // fixed hour may explain that.
                        guard near(theirs) else {
                            unexplained.append("missed an earlier match: " + describe)
                            continue
                        }
                        reason = "DST: a fixed time in a repeated hour fires once"
                    } else if near(ours) || near(theirs) {
                        reason = "DST: gap and repeat rules differ"
                    } else if !check.matches(theirs) {
                        reason = check.utcOffsetsDiffer(theirs, Int64(question.after))
                            ? "croniter kept the start's UTC offset after a DST change" : "croniter's answer does not match the fields"
                    } else {
                        reason = "croniter skipped a match (day-field rule)"
                    }
                } else {
                    reason = "croniter gave up (\(answer.prefix(40)))"
                }
                counts[reason, default: 0] += 1
                if samples[reason, default: []].count < 3 { samples[reason, default: []].append(describe) }
            }
            return (counts, samples, unexplained)
        }
        for (reason, count) in counts.sorted(by: { $0.value > $1.value }) {
            print("cron differential: \(count) \(reason)")
            for sample in samples[reason] ?? [] { print("    e.g. \(sample)") }
        }
        #expect(unexplained.isEmpty, "\(unexplained.count) unexplained:\n\(unexplained.prefix(20).joined(separator: "\n"))")
        #expect(counts["agree", default: 0] > 60_000)  // the oracle works at all
    }
}

/// An independent reading of an expression at one instant: Foundation's calendar in the zone,
/// then every field's bits (the day fields through the same day rule).
struct FieldCheck {
    let schedule: CronSchedule
    let calendar: Calendar

    init(schedule: CronSchedule, zone: String) {
        self.schedule = schedule
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        self.calendar = calendar
    }

    func matches(_ instant: Int64) -> Bool {
        let e = schedule.expression
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(instant)))
        return e.seconds & (1 << UInt64(c.second!)) != 0 && e.minutes & (1 << UInt64(c.minute!)) != 0
            && e.hours & (1 << UInt32(c.hour!)) != 0 && e.months & (1 << UInt16(c.month!)) != 0
            && e.dayMask(year: c.year!, month: c.month!) & (1 << UInt32(c.day!)) != 0
    }

    func utcOffsetsDiffer(_ a: Int64, _ b: Int64) -> Bool {
        calendar.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(a)))
            != calendar.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(b)))
    }
}

/// Runs CPU-bound `body` on a new thread.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
