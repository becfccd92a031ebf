/// Why a cron expression was refused: names the field and what is wrong with it.
public struct CronParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String

    public var description: String { message }
}

extension CronExpression {
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    private enum Field: Int, CaseIterable {
        case second, minute, hour, dayOfMonth, month, dayOfWeek

        var name: String {
            switch self {
            case .second: return "second"
            case .minute: return "minute"
            case .hour: return "hour"
            case .dayOfMonth: return "day-of-month"
            case .month: return "month"
            case .dayOfWeek: return "day-of-week"
            }
        }

        var range: ClosedRange<Int> {
            switch self {
            case .second, .minute: return 0...59
            case .hour: return 0...23
            case .dayOfMonth: return 1...31
            case .month: return 1...12
            case .dayOfWeek: return 0...7
            }
        }
    }

    /// Parses 5 fields (`minute hour day month weekday`), 6 fields (seconds first) or a macro.
    public init(parsing text: String) throws(CronParseError) {
        self.init(text: text)
        let trimmed = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        var parts = trimmed.map(String.init)
        if parts.count == 1, parts[0].hasPrefix("@") {
            guard let expansion = Self.macros[parts[0].lowercased()] else {
                throw CronParseError(message: "unknown cron macro '\(parts[0])'; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly")
            }
            parts = expansion.split(separator: " ").map(String.init)
        }
        let written = parts.count
        switch parts.count {
        case 5: parts.insert("0", at: 0)
        case 6: break
        default:
            throw CronParseError(message: "a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; '\(text)' has \(parts.count)")
        }
        for field in Field.allCases {
            let part = parts[field.rawValue]
            do {
                try parse(part, as: field)
            } catch {
                // Numbered as written: in a 5-field expression the minute is field 1.
                let position = field.rawValue + 1 - (written == 5 ? 1 : 0)
                throw CronParseError(message: "cron field \(position) (\(field.name)) '\(part)': \(error.message)")
            }
        }
        guard neverFiresReason == nil else { throw CronParseError(message: neverFiresReason!) }
    }

    private mutating func parse(_ part: String, as field: Field) throws(CronParseError) {
        if part == "?" {
            guard field == .dayOfMonth || field == .dayOfWeek else {
                throw CronParseError(message: "'?' is only allowed in day-of-month and day-of-week")
            }
            setAll(field)
            return
        }
        for item in part.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw CronParseError(message: "empty list item") }
            try parseItem(item.uppercased(), as: field)
        }
        // A field whose values cover its whole range restricts nothing (for the day-field rule).
        switch field {
        case .dayOfMonth:
            dayOfMonthRestricted = daysOfMonth != Self.bits(1...31) || lastDayOfMonthOffsets != 0 || nearestWeekdays != 0
                || lastWeekdayOfMonth
        case .dayOfWeek:
            dayOfWeekRestricted = weekdays != 0x7F || lastWeekdaysOfMonth != 0 || nthWeekdays != 0
        case .hour:
            hourIsFixed = !part.contains("*") && !part.contains("/")
        default: break
        }
    }

    private mutating func setAll(_ field: Field) {
        switch field {
        case .dayOfMonth: daysOfMonth = Self.bits(1...31)
        case .dayOfWeek: weekdays = 0x7F
        default: break
        }
    }

    private mutating func parseItem(_ item: String, as field: Field) throws(CronParseError) {
        // Specials of the day fields.
        if field == .dayOfMonth {
            if item == "L" || item.hasPrefix("L-") {
                let offset = item == "L" ? 0 : try number(String(item.dropFirst(2)), field: field, in: 0...30)
                lastDayOfMonthOffsets |= 1 << UInt32(offset)
                return
            }
            if item == "LW" || item == "WL" {
                lastWeekdayOfMonth = true
                return
            }
            if item.hasSuffix("W") {
                let day = try number(String(item.dropLast()), field: field, in: 1...31)
                nearestWeekdays |= 1 << UInt32(day)
                return
            }
        }
        if field == .dayOfWeek {
            if item == "L" {
                lastWeekdaysOfMonth |= 1 << 6  // Quartz: `L` alone is the last Saturday
                return
            }
            if item.hasSuffix("L") {
                let day = try weekday(String(item.dropLast()))
                lastWeekdaysOfMonth |= 1 << UInt8(day)
                return
            }
            if let hash = item.firstIndex(of: "#") {
                let day = try weekday(String(item[..<hash]))
                let nth = try number(String(item[item.index(after: hash)...]), field: field, in: 1...5)
                nthWeekdays |= 1 << UInt64(day * 5 + nth - 1)
                return
            }
        }
        // `*`, `a`, `a-b`, each with an optional `/step`.
        let slash = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let base = String(slash[0])
        var step = 1
        if slash.count == 2 {
            step = try number(String(slash[1]), field: field, in: 1...field.range.upperBound + 1, what: "step")
        }
        var low: Int
        var high: Int
        if base == "*" {
            (low, high) = (field.range.lowerBound, field.range.upperBound)
            if field == .dayOfWeek { high = 6 }
        } else if let dash = base.firstIndex(of: "-"), dash != base.startIndex {
            low = try value(String(base[..<dash]), field: field)
            high = try value(String(base[base.index(after: dash)...]), field: field)
            guard low <= high else {
                throw CronParseError(message: "the range \(base) runs backwards; write it as \(low)-\(field.range.upperBound),\(field.range.lowerBound)-\(high)")
            }
        } else {
            low = try value(base, field: field)
            // `a/step` runs from a to the end of the range.
            high = slash.count == 2 ? (field == .dayOfWeek ? 6 : field.range.upperBound) : low
        }
        var current = low
        while current <= high {
            insert(current, into: field)
            current += step
        }
    }

    private mutating func insert(_ value: Int, into field: Field) {
        switch field {
        case .second: seconds |= 1 << UInt64(value)
        case .minute: minutes |= 1 << UInt64(value)
        case .hour: hours |= 1 << UInt32(value)
        case .dayOfMonth: daysOfMonth |= 1 << UInt32(value)
        case .month: months |= 1 << UInt16(value)
        case .dayOfWeek: weekdays |= 1 << UInt8(value % 7)  // 7 is Sunday too
        }
    }

    private func value(_ text: String, field: Field) throws(CronParseError) -> Int {
        if field == .month, let index = Self.monthNames.firstIndex(of: text) { return index + 1 }
        if field == .dayOfWeek, let index = Self.dayNames.firstIndex(of: text) { return index }
        return try number(text, field: field, in: field.range)
    }

    private func weekday(_ text: String) throws(CronParseError) -> Int {
        try value(text, field: .dayOfWeek) % 7
    }

    private func number(_ text: String, field: Field, in range: ClosedRange<Int>, what: String = "value") throws(CronParseError) -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(text) else {
            let names = field == .month ? " or JAN–DEC" : field == .dayOfWeek ? " or SUN–SAT" : ""
            throw CronParseError(message: "'\(text)' is not a number\(names)")
        }
        guard range.contains(number) else {
            throw CronParseError(message: "\(what) \(number) is outside \(range.lowerBound)–\(range.upperBound)")
        }
        return number
    }

    static func bits(_ range: ClosedRange<Int>) -> UInt32 {
        range.reduce(0) { $0 | 1 << UInt32($1) }
    }

    /// An expression that can never fire (`0 0 30 2 *`) is refused rather than left silent.
    private var neverFiresReason: String? {
        // Day-of-week rules fire in every month; so does `L`, `LW` and any day up to 28.
        if dayOfWeekRestricted || !dayOfMonthRestricted { return nil }
        if lastDayOfMonthOffsets != 0 || lastWeekdayOfMonth { return nil }
        let days = daysOfMonth | nearestWeekdays
        for month in 1...12 where months & (1 << UInt16(month)) != 0 {
            let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            if days & Self.bits(1...longest) != 0 { return nil }
        }
        return "cron expression '\(text)' never fires: no selected month has the selected days"
    }
}
