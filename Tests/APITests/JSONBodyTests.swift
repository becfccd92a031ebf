import Foundation
import SchedulerCore
import Testing

@testable import API

/// The API writes runs and jobs itself; the bytes must be what `JSONEncoder` writes from their
/// `Encodable` conformance, field for field and escape for escape.
@Suite struct JSONBodyTests {
    private func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func written(_ value: some JSONBody) -> String {
        var out: [UInt8] = []
        value.writeJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Every byte below 0x80, a few beyond, and the characters JSON escapes.
    private static let awkward: String = {
        var text = ""
        for value in UInt8(0)..<0x80 { text.unicodeScalars.append(Unicode.Scalar(value)) }
        return text + "é\u{2028}😀/\\\""
    }()

    @Test func runsAreWrittenAsJSONEncoderWritesThem() throws {
        let time = Timestamp(milliseconds: 1_800_000_123_456)
        let runs = [
            Run(jobName: "plain", status: .pending, createdTime: time),
            Run(
                jobName: Self.awkward, status: .failed, createdTime: Timestamp(milliseconds: -62_135_596_800_000),
                startTime: time.adding(milliseconds: 1), endTime: time.adding(milliseconds: 999),
                heartbeat: time.adding(milliseconds: 500), trigger: .retry, attempt: 7, missedSlots: -3,
                retryOf: .generate(), statusTime: time.adding(milliseconds: 86_400_000 * 400)),
        ] + RunStatus.allCases.flatMap { status in
            RunTrigger.allCases.map { Run(jobName: "j", status: status, createdTime: time, trigger: $0, attempt: Int.max) }
        }
        for run in runs { #expect(written(run) == (try encoded(run))) }
        #expect(written(runs) == (try encoded(runs)))
        #expect(written([Run]()) == "[]")
    }

    @Test func jobsAreWrittenAsJSONEncoderWritesThem() throws {
        let jobs = [
            Job(name: "plain"),
            Job(
                name: Self.awkward, enabled: false, nextRunAt: Timestamp(milliseconds: 253_402_300_799_999),
                interval: 60_000, cron: "*/5 * * * *", timezone: "Europe/Zürich", runExecutionTimeout: 1,
                runStartTimeout: 2, heartbeatTimeout: 3, allowConcurrentRuns: true, maxQueueCount: 4,
                catchUpWindow: 5, maxRetries: 6, retryDelay: Int.min, managerId: Self.awkward,
                heartbeat: Timestamp(milliseconds: 0)),
        ]
        for job in jobs { #expect(written(job) == (try encoded(job))) }
        #expect(written(jobs) == (try encoded(jobs)))
    }
}
