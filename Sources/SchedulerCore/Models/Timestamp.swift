import Foundation

/// An instant with millisecond precision, the resolution of every time SPEC §3 stores.
///
/// Held as whole milliseconds since the Unix epoch so that a value written to a
/// database (a BSON date, an SQLite integer) reads back equal, which `Date`'s
/// floating-point seconds would not guarantee.
public struct Timestamp: Hashable, Comparable, Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    /// Creates an instant from milliseconds since the Unix epoch.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// Creates an instant from a `Date`, truncated to the millisecond.
    public init(_ date: Date) {
        self.milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The current wall-clock time.
    public static var now: Timestamp { Timestamp(Date()) }

    /// This instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The instant `milliseconds` later (earlier when negative).
    public func adding(milliseconds delta: Int64) -> Timestamp {
        Timestamp(milliseconds: milliseconds &+ delta)
    }

    /// Milliseconds from `other` to this instant.
    public func milliseconds(since other: Timestamp) -> Int64 {
        milliseconds &- other.milliseconds
    }
}

extension Timestamp: CustomStringConvertible {
    public var description: String { RFC3339.format(self) }
}

extension Timestamp: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = try RFC3339.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "the zero time 0001-01-01T00:00:00Z is not a value here")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339.format(self))
    }
}
