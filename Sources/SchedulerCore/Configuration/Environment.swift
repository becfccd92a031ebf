import Foundation

/// Settings as the daemons read them (SPEC §8): the process environment over an env file.
///
/// The file is the first command-line argument when given (then it must exist), else `.env`
/// in the working directory when present; a missing default file is not an error.
public struct Environment: Sendable {
    /// The merged variables.
    public let values: [String: String]
    /// The env file that was read, if any.
    public let file: String?

    public init(_ values: [String: String], file: String? = nil) {
        self.values = values
        self.file = file
    }

    public subscript(_ name: String) -> String? { values[name] }

    /// Reads the env file named by `arguments.first` (else `.env` if present) under `process`.
    public static func load(
        arguments: [String], process: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> Environment {
        let explicit = arguments.first
        let path = explicit ?? ".env"
        guard FileManager.default.fileExists(atPath: path) else {
            if let explicit { throw ConfigurationError(["env file '\(explicit)' does not exist"]) }
            return Environment(process)
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError(["env file '\(path)' cannot be read: \(error.localizedDescription)"])
        }
        var merged = try parse(text, file: path)
        merged.merge(process) { _, fromProcess in fromProcess }
        return Environment(merged, file: path)
    }

    /// Parses dotenv text: `KEY=VALUE` lines, optional `export `, `#` comments, blank lines,
    /// values optionally in single quotes (literal) or double quotes (with `\n`, `\"`, `\\`).
    public static func parse(_ text: String, file: String = ".env") throws(ConfigurationError) -> [String: String] {
        var values: [String: String] = [:]
        var problems: [String] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append("\(file) line \(number + 1): expected KEY=VALUE")
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                problems.append("\(file) line \(number + 1): '\(key)' is not a variable name")
                continue
            }
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            } else if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = unescape(String(value.dropFirst().dropLast()))
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = value
        }
        if !problems.isEmpty { throw ConfigurationError(problems) }
        return values
    }

    private static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                switch character {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Every problem with the settings, reported at once; printed as one line at start-up.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let problems: [String]

    public init(_ problems: [String]) { self.problems = problems }

    public var description: String { "invalid configuration: " + problems.joined(separator: "; ") }
}
