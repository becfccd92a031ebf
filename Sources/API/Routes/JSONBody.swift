import HTTPServer
import SchedulerCore

/// A model the API writes as JSON itself. Through `JSONEncoder` a page of 50 runs cost about half
/// a millisecond of CPU, most of the request (a boxed container and a key-sorting dictionary per
/// object); writing the bytes directly costs a small part of that.
///
/// The bytes are exactly what `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes
/// from the type's `Encodable` conformance, which stays the one definition of the shape:
/// `JSONBodyTests` compares the two, so a field added to one and not the other fails there.
protocol JSONBody: Encodable {
    func writeJSON(to out: inout [UInt8])
}

extension Array: JSONBody where Element: JSONBody {
    func writeJSON(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, element) in enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element.writeJSON(to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}

/// Writes one object's members in the order given, which must be sorted by key (as `.sortedKeys`
/// writes them).
struct JSONObjectWriter {
    private var first = true

    /// Starts `{"key":`, or `,"key":` after the first member.
    mutating func key(_ key: StaticString, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: first ? "{" : ","))
        first = false
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: #"":"#.utf8)
    }

    mutating func string(_ key: StaticString, _ value: String?, _ out: inout [UInt8]) {
        self.key(key, &out)
        if let value { appendJSONString(value, to: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    mutating func integer(_ key: StaticString, _ value: Int, _ out: inout [UInt8]) {
        self.key(key, &out)
        out.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ key: StaticString, _ value: Bool, _ out: inout [UInt8]) {
        self.key(key, &out)
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// An RFC 3339 time with milliseconds, or `null` (as `encodeTime` writes it).
    mutating func time(_ key: StaticString, _ value: Timestamp?, _ out: inout [UInt8]) {
        string(key, value.map(RFC3339.format), &out)
    }

    func end(_ out: inout [UInt8]) {
        out.append(contentsOf: (first ? "{}" : "}").utf8)
    }
}

extension Run: JSONBody {
    func writeJSON(to out: inout [UInt8]) {
        var object = JSONObjectWriter()
        object.integer("attempt", attempt, &out)
        object.time("createdTime", createdTime, &out)
        object.time("endTime", endTime, &out)
        object.time("heartbeat", heartbeat, &out)
        object.string("id", id.hex, &out)
        object.string("jobName", jobName, &out)
        object.integer("missedSlots", missedSlots, &out)
        object.string("retryOf", retryOf?.hex, &out)
        object.time("startTime", startTime, &out)
        object.string("status", status.rawValue, &out)
        object.time("statusTime", statusTime, &out)
        object.string("trigger", trigger.rawValue, &out)
        object.end(&out)
    }
}

extension Job: JSONBody {
    func writeJSON(to out: inout [UInt8]) {
        var object = JSONObjectWriter()
        object.bool("allowConcurrentRuns", allowConcurrentRuns, &out)
        object.integer("catchUpWindow", catchUpWindow, &out)
        object.string("cron", cron, &out)
        object.bool("enabled", enabled, &out)
        object.time("heartbeat", heartbeat, &out)
        object.integer("heartbeatTimeout", heartbeatTimeout, &out)
        object.integer("interval", interval, &out)
        object.string("managerId", managerId, &out)
        object.integer("maxQueueCount", maxQueueCount, &out)
        object.integer("maxRetries", maxRetries, &out)
        object.string("name", name, &out)
        object.time("nextRunAt", nextRunAt, &out)
        object.integer("retryDelay", retryDelay, &out)
        object.integer("runExecutionTimeout", runExecutionTimeout, &out)
        object.integer("runStartTimeout", runStartTimeout, &out)
        object.string("timezone", timezone, &out)
        object.end(&out)
    }
}
