import ArgumentParser
import SchedulerCore

/// `true` or `false`, as `--enabled false` or `--enabled=false`.
struct BooleanValue: ExpressibleByArgument, Equatable {
    let value: Bool

    init(_ value: Bool) { self.value = value }

    init?(argument: String) {
        switch argument.lowercased() {
        case "true": value = true
        case "false": value = false
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["true", "false"] }
}

/// Milliseconds: a plain number (`1500`), or amounts with units (`250ms`, `30s`, `5m`, `1h`,
/// `1d`, and sums like `1h30m`).
struct DurationValue: ExpressibleByArgument, Equatable {
    let milliseconds: Int

    init(milliseconds: Int) { self.milliseconds = milliseconds }

    init?(argument: String) {
        if let plain = Int(argument), plain >= 0 {
            milliseconds = plain
            return
        }
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var total = 0
        var rest = Substring(argument)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let amount = Int(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            let (product, overflow) = amount.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { return nil }
            total += product
        }
        milliseconds = total
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// An RFC 3339 time (`2025-01-29T10:00:00Z`).
struct TimeValue: ExpressibleByArgument, Equatable {
    let time: Timestamp

    init?(argument: String) {
        guard let parsed = try? RFC3339.parse(argument) else { return nil }
        time = parsed
    }
}
