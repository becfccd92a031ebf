import Foundation

/// RFC 3339 times as SPEC §3 writes them: UTC, milliseconds, `Z`.
///
/// Parsing is lenient in what readers of the original's documents need: any
/// number of fraction digits (or none), `Z` or a numeric offset, and the
/// original's zero time `0001-01-01T00:00:00Z`, which means "unset".
public enum RFC3339 {
    /// The error for text that is not an RFC 3339 date-time.
    public struct ParseError: Error, CustomStringConvertible {
        /// The rejected text.
        public let text: String
        public var description: String { "'\(text)' is not an RFC 3339 time such as 2025-01-29T10:00:00Z" }
    }

    /// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(_ time: Timestamp) -> String {
        let ms = time.milliseconds
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let date = CivilCalendar.date(fromDays: Int(days))
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        let hour = msOfDay / 3_600_000
        let minute = (msOfDay / 60_000) % 60
        let second = (msOfDay / 1000) % 60
        let milli = msOfDay % 1000
        var out = ""
        out.reserveCapacity(24)
        pad(&out, year, 4)
        out += "-"
        pad(&out, month, 2)
        out += "-"
        pad(&out, day, 2)
        out += "T"
        pad(&out, hour, 2)
        out += ":"
        pad(&out, minute, 2)
        out += ":"
        pad(&out, second, 2)
        out += "."
        pad(&out, milli, 3)
        out += "Z"
        return out
    }

    /// Parses an RFC 3339 date-time; `nil` for the original's zero time.
    public static func parse(_ text: String) throws(ParseError) -> Timestamp? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) throws(ParseError) -> Int64 {
            guard index + count <= bytes.count else { throw ParseError(text: text) }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard byte >= 48, byte <= 57 else { throw ParseError(text: text) }
                value = value * 10 + Int64(byte - 48)
            }
            index += count
            return value
        }
        func expect(_ characters: String) throws(ParseError) {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { throw ParseError(text: text) }
            index += 1
        }
        let year = try number(4)
        try expect("-")
        let month = try number(2)
        try expect("-")
        let day = try number(2)
        try expect("Tt ")
        let hour = try number(2)
        try expect(":")
        let minute = try number(2)
        try expect(":")
        let second = try number(2)
        var milli: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 3 { milli = milli * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { throw ParseError(text: text) }
            for _ in digits..<max(digits, 3) { milli *= 10 }
        }
        guard index < bytes.count else { throw ParseError(text: text) }
        var offsetMinutes: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            let offsetHours = try number(2)
            try expect(":")
            let offsetMins = try number(2)
            guard offsetHours < 24, offsetMins < 60 else { throw ParseError(text: text) }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
        default:
            throw ParseError(text: text)
        }
        guard index == bytes.count,
            (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: Int(year), month: Int(month)),
            hour < 24, minute < 60, second < 61
        else { throw ParseError(text: text) }
        if year == 1, month == 1, day == 1, hour == 0, minute == 0, second == 0, milli == 0, offsetMinutes == 0 {
            return nil
        }
        let days = Int64(CivilCalendar.days(year: Int(year), month: Int(month), day: Int(day)))
        let ms = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + min(second, 59) * 1000 + milli
        return Timestamp(milliseconds: ms)
    }

    private static func pad(_ out: inout String, _ value: Int64, _ width: Int) {
        let digits = String(value)
        if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
        out += digits
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { floorDivide(a, b).quotient }
}
