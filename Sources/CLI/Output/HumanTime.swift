import Foundation
import SchedulerCore

/// Times and durations for people: the local time zone, ISO-like (`2025-01-29 11:00:00 +01:00`).
enum HumanTime {
    static func format(_ rfc3339: String) -> String {
        guard let time = try? RFC3339.parse(rfc3339) else { return rfc3339 == "" ? "-" : rfc3339 }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return formatter.string(from: time.date)
    }

    /// `90000` → `1m30s`; 0 → `0`.
    static func duration(_ milliseconds: Int) -> String {
        guard milliseconds > 0 else { return "0" }
        var rest = milliseconds
        var parts: [String] = []
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] where rest >= size {
            parts.append("\(rest / size)\(unit)")
            rest %= size
        }
        return parts.joined()
    }
}
