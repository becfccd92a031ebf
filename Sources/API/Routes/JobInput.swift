import HTTPServer
import SchedulerCore

/// Reads job bodies of `POST /api/jobs` and `PATCH /api/jobs/{name}` (SPEC §7): every field of
/// §4 with its type, the read-only `managerId` and `heartbeat` ignored (a job read with GET can be
/// posted back), anything else refused.
struct JobInput {
    static let writableFields: Set<String> = [
        "name", "enabled", "nextRunAt", "interval", "cron", "timezone", "runExecutionTimeout", "runStartTimeout",
        "heartbeatTimeout", "allowConcurrentRuns", "maxQueueCount", "catchUpWindow", "maxRetries", "retryDelay",
    ]
    static let ignoredFields: Set<String> = ["managerId", "heartbeat"]

    private let object: [String: JSONValue]

    init(_ body: [UInt8]) throws(HTTPError) {
        object = try JSONValue.object(from: body)
        let unknown = object.keys.filter { !Self.writableFields.contains($0) && !Self.ignoredFields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw .badRequest(
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                    + "a job has: \(Self.writableFields.sorted().joined(separator: ", "))")
        }
    }

    /// A new job: `name` and `enabled` required, `nextRunAt` unless `cron` is given.
    func job() throws(HTTPError) -> Job {
        guard let name = try string("name") else { throw .badRequest("'name' is required") }
        guard let enabled = try bool("enabled") else { throw .badRequest("'enabled' is required (true or false)") }
        let cron = try string("cron")
        let nextRunAt = try time("nextRunAt") ?? nil
        if cron == nil, nextRunAt == nil {
            throw .badRequest("'nextRunAt' is required (an RFC 3339 time such as 2025-01-29T10:00:00Z) unless 'cron' is given")
        }
        let job = Job(
            name: name, enabled: enabled, nextRunAt: nextRunAt, interval: try integer("interval") ?? 0, cron: cron,
            timezone: try string("timezone") ?? "UTC", runExecutionTimeout: try integer("runExecutionTimeout") ?? 0,
            runStartTimeout: try integer("runStartTimeout") ?? 0, heartbeatTimeout: try integer("heartbeatTimeout") ?? 0,
            allowConcurrentRuns: try bool("allowConcurrentRuns") ?? false,
            maxQueueCount: try integer("maxQueueCount") ?? 0, catchUpWindow: try integer("catchUpWindow") ?? 0,
            maxRetries: try integer("maxRetries") ?? 0, retryDelay: try integer("retryDelay") ?? 0)
        try Self.validate(job)
        return job
    }

    /// A change: any subset of the fields but `name`.
    func patch() throws(HTTPError) -> JobPatch {
        guard object["name"] == nil else {
            throw .badRequest("'name' cannot be changed; create a job with the new name and delete this one")
        }
        var patch = JobPatch()
        patch.enabled = try bool("enabled")
        patch.nextRunAt = try time("nextRunAt")
        patch.interval = try integer("interval")
        if object["cron"] != nil { patch.cron = .some(try string("cron")) }
        patch.timezone = try string("timezone")
        patch.runExecutionTimeout = try integer("runExecutionTimeout")
        patch.runStartTimeout = try integer("runStartTimeout")
        patch.heartbeatTimeout = try integer("heartbeatTimeout")
        patch.allowConcurrentRuns = try bool("allowConcurrentRuns")
        patch.maxQueueCount = try integer("maxQueueCount")
        patch.catchUpWindow = try integer("catchUpWindow")
        patch.maxRetries = try integer("maxRetries")
        patch.retryDelay = try integer("retryDelay")
        return patch
    }

    static func validate(_ job: Job) throws(HTTPError) {
        let problems = job.validationProblems()
        guard problems.isEmpty else { throw .badRequest(problems.joined(separator: "; ")) }
    }

    // MARK: - Typed fields; `nil` when absent

    private func string(_ key: String) throws(HTTPError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .badRequest("'\(key)' must be a string, not \(other.kind)")
        }
    }

    private func bool(_ key: String) throws(HTTPError) -> Bool? {
        switch object[key] {
        case nil: return nil
        case .bool(let value)?: return value
        case let other?: throw .badRequest("'\(key)' must be true or false, not \(other.kind)")
        }
    }

    private func integer(_ key: String) throws(HTTPError) -> Int? {
        switch object[key] {
        case nil: return nil
        case .integer(let value)?: return value
        // JSON Schema counts 398.0 as an integer; JSON parsers read it as a double.
        case .number(let value)? where value.rounded() == value && abs(value) <= 9_007_199_254_740_991: return Int(value)
        case .number?: throw .badRequest("'\(key)' must be a whole number (milliseconds or a count)")
        case let other?: throw .badRequest("'\(key)' must be a number, not \(other.kind)")
        }
    }

    /// Absent: `nil`; JSON `null`: `.some(nil)`, which clears the time.
    private func time(_ key: String) throws(HTTPError) -> Timestamp?? {
        switch object[key] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let text)?:
            do {
                return .some(try RFC3339.parse(text))
            } catch {
                throw .badRequest("'\(key)': \(error)")
            }
        case let other?: throw .badRequest("'\(key)' must be an RFC 3339 time string, not \(other.kind)")
        }
    }
}
