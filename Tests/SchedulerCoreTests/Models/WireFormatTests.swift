import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

@Suite struct WireFormatTests {
    let id = try! RunID(validating: "6799b53b33fcc6482f29c96f")

    @Test func actionBodiesAreByteExact() throws {
        let run = ActionMessage(jobName: "my-job", runID: id, action: .run, attempt: 1)
        #expect(
            String(decoding: run.body, as: UTF8.self)
                == #"{"jobName":"my-job","runId":"6799b53b33fcc6482f29c96f","action":"run","attempt":1}"#)
        let cancel = ActionMessage(jobName: "my-job", runID: id, action: .cancel, attempt: 3)
        #expect(
            String(decoding: cancel.body, as: UTF8.self)
                == #"{"jobName":"my-job","runId":"6799b53b33fcc6482f29c96f","action":"cancel","attempt":3}"#)
        #expect(try ActionMessage(parsing: cancel.body) == cancel)
    }

    @Test func workerMessagesParseAndIgnoreOtherKeys() throws {
        let status = try StatusMessage(
            parsing: Array(#"{"jobName":"my-job","runId":"6799b53b33fcc6482f29c96f","status":"running","x":[1]}"#.utf8))
        #expect(status == StatusMessage(jobName: "my-job", runID: id, status: .running, attempt: nil))
        let withAttempt = try StatusMessage(
            parsing: Array(#"{"attempt":2,"status":"failed","runId":"6799B53B33FCC6482F29C96F","jobName":"j"}"#.utf8))
        #expect(withAttempt == StatusMessage(jobName: "j", runID: id, status: .failed, attempt: 2))
        let heartbeat = try HeartbeatMessage(
            parsing: Array(#"{"jobName":"my-job","runId":"6799b53b33fcc6482f29c96f"}"#.utf8))
        #expect(heartbeat == HeartbeatMessage(jobName: "my-job", runID: id, attempt: nil))
    }

    @Test(arguments: [
        "", "not json", "[]", #"{"runId":"6799b53b33fcc6482f29c96f","status":"running"}"#,
        #"{"jobName":"j","runId":"xyz","status":"running"}"#,
        #"{"jobName":"j","runId":"6799b53b33fcc6482f29c96f","status":"sleeping"}"#,
        #"{"jobName":"j","runId":"6799b53b33fcc6482f29c96f","status":"running","attempt":0}"#,
        #"{"jobName":"j","runId":"6799b53b33fcc6482f29c96f","status":"running","attempt":true}"#,
        #"{"jobName":"j","runId":"6799b53b33fcc6482f29c96f","status":"running","attempt":1.5}"#,
        #"{"jobName":7,"runId":"6799b53b33fcc6482f29c96f","status":"running"}"#,
    ])
    func malformedStatusMessagesAreTypedErrors(_ body: String) {
        #expect(throws: MessageError.self) { try StatusMessage(parsing: Array(body.utf8)) }
    }

    @Test func runJSONUsesSpecNamesNullsAndMilliseconds() throws {
        let run = Run(
            id: id, jobName: "my-job", status: .running, createdTime: Timestamp(milliseconds: 1_738_144_800_000),
            startTime: Timestamp(milliseconds: 1_738_144_800_123), trigger: .manual)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(run)) as! [String: Any]
        #expect(object["id"] as? String == "6799b53b33fcc6482f29c96f")
        #expect(object["createdTime"] as? String == "2025-01-29T10:00:00.000Z")
        #expect(object["startTime"] as? String == "2025-01-29T10:00:00.123Z")
        #expect(object["endTime"] is NSNull)
        #expect(object["heartbeat"] is NSNull)
        #expect(object["retryOf"] is NSNull)
        #expect(object["trigger"] as? String == "manual")
        #expect(object["attempt"] as? Int == 1)
        #expect(object["missedSlots"] as? Int == 0)
        #expect(try JSONDecoder().decode(Run.self, from: JSONEncoder().encode(run)) == run)
    }

    @Test func originalDocumentsDecode() throws {
        // The original wrote zero times for unset ones and knew nothing of the new fields.
        let json = """
            {"id":"6799b53b33fcc6482f29c96f","jobName":"j","status":"completed","createdTime":"2025-01-29T10:00:00Z",
             "startTime":"0001-01-01T00:00:00Z","endTime":"2025-01-29T11:00:00.5+01:00","heartbeat":null,"extra":1}
            """
        let run = try JSONDecoder().decode(Run.self, from: Data(json.utf8))
        #expect(run.startTime == nil && run.heartbeat == nil)
        #expect(run.endTime == Timestamp(milliseconds: 1_738_144_800_500))
        #expect(run.trigger == .schedule && run.attempt == 1 && run.missedSlots == 0)
    }

    @Test func jobJSONRoundTripsWithDefaults() throws {
        let job = try JSONDecoder().decode(
            Job.self, from: Data(#"{"name":"n","enabled":false,"nextRunAt":"2025-01-29T10:00:00.000Z"}"#.utf8))
        #expect(job == Job(name: "n", enabled: false, nextRunAt: Timestamp(milliseconds: 1_738_144_800_000)))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(job)) as! [String: Any]
        #expect(Set(object.keys) == Set(Job.CodingKeys.allCases.map(\.rawValue)))
        #expect(object["cron"] is NSNull && object["managerId"] is NSNull && object["heartbeat"] is NSNull)
        #expect(object["timezone"] as? String == "UTC")
        #expect(try JSONDecoder().decode(Job.self, from: JSONEncoder().encode(job)) == job)
    }

    @Test(arguments: [
        ("2025-01-29T10:00:00Z", 1_738_144_800_000), ("2025-01-29T10:00:00.1Z", 1_738_144_800_100),
        ("2025-01-29T10:00:00.123456Z", 1_738_144_800_123), ("2025-01-29T12:30:00+02:30", 1_738_144_800_000),
        ("1970-01-01T00:00:00.000Z", 0), ("1969-12-31T23:59:59.999Z", -1), ("2024-02-29T00:00:00Z", 1_709_164_800_000),
    ] as [(String, Int64)])
    func rfc3339Parses(_ text: String, _ milliseconds: Int64) throws {
        #expect(try RFC3339.parse(text) == Timestamp(milliseconds: milliseconds))
    }

    @Test(arguments: ["", "2025-01-29", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-01-29T10:00:00",
        "2025-01-29T25:00:00Z", "2025-01-29T10:00:00.Z", "2025-01-29T10:00:00Zjunk"])
    func rfc3339Rejects(_ text: String) {
        #expect(throws: RFC3339.ParseError.self) { try RFC3339.parse(text) }
    }

    @Test func rfc3339FormatsRoundTrip() throws {
        for _ in 0..<1000 {
            let time = Timestamp(milliseconds: Int64.random(in: -2_000_000_000_000...5_000_000_000_000))
            #expect(try RFC3339.parse(RFC3339.format(time)) == time)
            #expect(RFC3339.format(time) == ISO8601Reference.format(time))
        }
        #expect(try RFC3339.parse("0001-01-01T00:00:00Z") == nil)
    }

    @Test func generatedIDsAreUniqueObjectIDs() throws {
        let ids = (0..<10_000).map { _ in RunID.generate() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(10) {
            #expect(try RunID(validating: id.hex) == id)
            #expect(RunID(bytes: id.bytes) == id)
        }
    }
}

/// Foundation's formatter, as an independent reference for our own.
enum ISO8601Reference {
    static func format(_ time: Timestamp) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: time.date)
    }
}
