/// Reads typed settings from an `Environment`, collecting every problem instead of stopping
/// at the first, so an operator fixes a bad env file in one go.
public struct SettingsReader {
    public let environment: Environment
    public private(set) var problems: [String] = []

    public init(_ environment: Environment) { self.environment = environment }

    private func raw(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// A string; `nil` when unset and there is no default.
    public func string(_ name: String, default fallback: String? = nil) -> String? {
        raw(name) ?? fallback
    }

    /// A whole number in `range`.
    public mutating func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = raw(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            problems.append("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) (got '\(text)')")
            return fallback
        }
        return value
    }

    /// A duration in milliseconds (SPEC §8), at least `minimum`.
    public mutating func milliseconds(_ name: String, default fallback: Int, minimum: Int = 0) -> Int {
        guard let text = raw(name) else { return fallback }
        guard let value = Int(text), value >= minimum, value <= Job.maximumDuration else {
            problems.append("\(name) must be a duration in milliseconds, at least \(minimum) (got '\(text)')")
            return fallback
        }
        return value
    }

    /// One of `choices`, compared case-insensitively.
    public mutating func choice<T: RawRepresentable<String> & CaseIterable>(_ name: String, default fallback: T) -> T {
        guard let text = raw(name) else { return fallback }
        guard let value = T.allCases.first(where: { $0.rawValue == text.lowercased() }) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            problems.append("\(name) must be one of \(names) (got '\(text)')")
            return fallback
        }
        return value
    }

    /// A listen address such as `:8080` or `127.0.0.1:8080`.
    public mutating func listenAddress(_ name: String, default fallback: String?) -> ListenAddress? {
        guard let text = raw(name) ?? fallback else { return nil }
        guard let address = ListenAddress(text) else {
            problems.append("\(name) must be a listen address such as :8080 or 127.0.0.1:8080 (got '\(text)')")
            return nil
        }
        return address
    }

    /// Records a problem found by the caller's own check.
    public mutating func report(_ problem: String) { problems.append(problem) }

    /// Throws every collected problem.
    public func finish() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems) }
    }
}

/// Where a server listens: a host (nil: every interface) and a port (0: any free one).
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String?
    public var port: UInt16

    public init(host: String?, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `:8080`, `127.0.0.1:8080`, `localhost:8080` or `[::1]:8080`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
        self.host = host.isEmpty ? nil : host
        self.port = port
    }

    public var description: String {
        let shown = host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? ""
        return "\(shown):\(port)"
    }
}
