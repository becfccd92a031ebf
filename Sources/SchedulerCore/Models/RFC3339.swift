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
        let (year, month, day) = civil(fromDays: days)
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
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 61
        else { throw ParseError(text: text) }
        if year == 1, month == 1, day == 1, hour == 0, minute == 0, second == 0, milli == 0, offsetMinutes == 0 {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let ms = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + min(second, 59) * 1000 + milli
        return Timestamp(milliseconds: ms)
    }

    private static func pad(_ out: inout String, _ value: Int64, _ width: Int) {
        let digits = String(value)
        if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
        out += digits
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact proleptic
    // Gregorian arithmetic without Calendar, which allocates and is slow.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }
}
