import Foundation

/// Why a job definition was refused; every problem found, each in words a person can act on.
public struct JobValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One message per problem.
    public let problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}

extension Job {
    /// Longest duration accepted in any field: 100 years. Bounds keep slot arithmetic
    /// and the doubling retry delay far from overflow.
    public static let maximumDuration = 100 * 365 * 86_400_000

    /// Longest accepted job name (it becomes part of exchange and queue names, which AMQP caps at 255 bytes).
    public static let maximumNameLength = 200

    /// Whether `name` is 1–200 characters of `[A-Za-z0-9._-]`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maximumNameLength else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x2D
                || b == 0x5F
        }
    }

    /// Every problem with this definition, empty when it is valid.
    public func validationProblems() -> [String] {
        var problems: [String] = []
        if !Job.isValidName(name) {
            problems.append(
                "name must be 1-\(Job.maximumNameLength) characters of letters, digits, '.', '_' or '-' (got '\(name.prefix(40))')"
            )
        }
        let durations: [(String, Int)] = [
            ("interval", interval), ("runExecutionTimeout", runExecutionTimeout), ("runStartTimeout", runStartTimeout),
            ("heartbeatTimeout", heartbeatTimeout), ("catchUpWindow", catchUpWindow), ("retryDelay", retryDelay),
        ]
        for (field, value) in durations where value < 0 || value > Job.maximumDuration {
            problems.append("\(field) must be between 0 and \(Job.maximumDuration) milliseconds (got \(value))")
        }
        for (field, value) in [("maxQueueCount", maxQueueCount), ("maxRetries", maxRetries)]
        where value < 0 || value > 1_000_000 {
            problems.append("\(field) must be between 0 and 1000000 (got \(value))")
        }
        if let cron {
            if interval != 0 { problems.append("interval must be 0 when cron is set: a job has one kind of schedule") }
            do {
                _ = try CronExpression(parsing: cron)
            } catch {
                problems.append(error.message)
            }
        }
        if TimeZone(identifier: timezone) == nil {
            problems.append("timezone must be an IANA zone name such as UTC or Europe/Berlin (got '\(timezone)')")
        }
        return problems
    }

    /// Throws every problem at once when the definition is not valid.
    public func validate() throws(JobValidationError) {
        let problems = validationProblems()
        if !problems.isEmpty { throw JobValidationError(problems: problems) }
    }
}
