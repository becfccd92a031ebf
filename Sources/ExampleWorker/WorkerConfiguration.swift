import Foundation
import SchedulerCore

/// `JOB-NAME = shell command` lines; `#` starts a comment line.
enum WorkerConfiguration {
    struct Invalid: Error, CustomStringConvertible { let description: String }

    static func load(path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Invalid(description: "cannot read the config file \(path)")
        }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String = "config") throws -> [String: String] {
        var commands: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw Invalid(description: "\(source) line \(index + 1): expected 'JOB-NAME = command'")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            let command = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard Job.isValidName(name), !command.isEmpty else {
                throw Invalid(description: "\(source) line \(index + 1): '\(name)' is not a job name, or the command is empty")
            }
            commands[name] = command
        }
        guard !commands.isEmpty else { throw Invalid(description: "\(source) names no job") }
        return commands
    }
}
