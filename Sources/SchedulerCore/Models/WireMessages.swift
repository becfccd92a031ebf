import Foundation

/// A run or cancel action the scheduler publishes to `scheduler.job.N` with key `action` (SPEC §2).
public struct ActionMessage: Hashable, Sendable {
    public var jobName: String
    public var runID: RunID
    public var action: JobAction
    public var attempt: Int

    public init(jobName: String, runID: RunID, action: JobAction, attempt: Int) {
        self.jobName = jobName
        self.runID = runID
        self.action = action
        self.attempt = attempt
    }

    /// The body byte for byte as SPEC §2 gives it: keys in this order, no spaces.
    ///
    /// Written by hand because `JSONEncoder` does not promise a key order.
    public var body: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(80 + jobName.utf8.count)
        out.append(contentsOf: #"{"jobName":"#.utf8)
        JSONText.appendString(jobName, to: &out)
        out.append(contentsOf: #","runId":""#.utf8)
        out.append(contentsOf: runID.hex.utf8)
        out.append(contentsOf: #"","action":""#.utf8)
        out.append(contentsOf: action.rawValue.utf8)
        out.append(contentsOf: #"","attempt":"#.utf8)
        out.append(contentsOf: String(attempt).utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses an action body (workers' side, and tests).
    public init(parsing body: some Collection<UInt8>) throws(MessageError) {
        let object = try JSONText.object(body)
        jobName = try object.string("jobName")
        runID = try object.runID()
        guard let action = JobAction(rawValue: try object.string("action")) else {
            throw MessageError("action must be \"run\" or \"cancel\"")
        }
        self.action = action
        attempt = try object.validAttempt() ?? 1
    }
}

/// A status report a worker publishes with key `status`.
public struct StatusMessage: Hashable, Sendable {
    public var jobName: String
    public var runID: RunID
    public var status: RunStatus
    /// `nil` means the run's current attempt.
    public var attempt: Int?

    public init(jobName: String, runID: RunID, status: RunStatus, attempt: Int? = nil) {
        self.jobName = jobName
        self.runID = runID
        self.status = status
        self.attempt = attempt
    }

    /// The body a worker publishes, in SPEC §2's key order (`attempt` last, when known).
    public var body: [UInt8] {
        var out = Array(#"{"jobName":"#.utf8)
        JSONText.appendString(jobName, to: &out)
        out.append(contentsOf: #","runId":""#.utf8)
        out.append(contentsOf: runID.hex.utf8)
        out.append(contentsOf: #"","status":""#.utf8)
        out.append(contentsOf: status.rawValue.utf8)
        out.append(UInt8(ascii: "\""))
        if let attempt { out.append(contentsOf: #","attempt":\#(attempt)"#.utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses a worker's body; other keys are ignored.
    public init(parsing body: some Collection<UInt8>) throws(MessageError) {
        let object = try JSONText.object(body)
        jobName = try object.string("jobName")
        runID = try object.runID()
        let text = try object.string("status")
        guard let status = RunStatus(rawValue: text) else { throw MessageError("unknown status '\(text.prefix(40))'") }
        self.status = status
        attempt = try object.validAttempt()
    }
}

/// A heartbeat a worker publishes with key `heartbeat` while a run is running.
public struct HeartbeatMessage: Hashable, Sendable {
    public var jobName: String
    public var runID: RunID
    /// `nil` means the run's current attempt.
    public var attempt: Int?

    public init(jobName: String, runID: RunID, attempt: Int? = nil) {
        self.jobName = jobName
        self.runID = runID
        self.attempt = attempt
    }

    /// The body a worker publishes, in SPEC §2's key order (`attempt` last, when known).
    public var body: [UInt8] {
        var out = Array(#"{"jobName":"#.utf8)
        JSONText.appendString(jobName, to: &out)
        out.append(contentsOf: #","runId":""#.utf8)
        out.append(contentsOf: runID.hex.utf8)
        out.append(UInt8(ascii: "\""))
        if let attempt { out.append(contentsOf: #","attempt":\#(attempt)"#.utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses a worker's body; other keys are ignored.
    public init(parsing body: some Collection<UInt8>) throws(MessageError) {
        let object = try JSONText.object(body)
        jobName = try object.string("jobName")
        runID = try object.runID()
        attempt = try object.validAttempt()
    }
}

/// Why a message body was dropped.
public struct MessageError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The small JSON reading and writing the wire messages need.
enum JSONText {
    /// The keys any wire message may have; others are ignored.
    struct Object: Decodable {
        let jobName: String?
        let runId: String?
        let status: String?
        let action: String?
        let attempt: Int?

        func string(_ key: String) throws(MessageError) -> String {
            let value: String?
            switch key {
            case "jobName": value = jobName
            case "status": value = status
            case "action": value = action
            default: value = runId
            }
            guard let value else { throw MessageError("\(key) is missing") }
            return value
        }

        func runID() throws(MessageError) -> RunID {
            let text = try string("runId")
            do { return try RunID(validating: text) } catch { throw MessageError("\(error)") }
        }

        func validAttempt() throws(MessageError) -> Int? {
            guard let attempt else { return nil }
            guard attempt >= 1 else { throw MessageError("attempt must be a positive integer") }
            return attempt
        }
    }

    static func object(_ body: some Collection<UInt8>) throws(MessageError) -> Object {
        do { return try JSONDecoder().decode(Object.self, from: Data(body)) } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                let key = context.codingPath.last?.stringValue ?? "body"
                throw MessageError("\(key) has the wrong type")
            default:
                throw MessageError("body is not a JSON object")
            }
        } catch {
            throw MessageError("body is not a JSON object")
        }
    }
    /// Appends `value` as a JSON string literal (RFC 8259 §7).
    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
