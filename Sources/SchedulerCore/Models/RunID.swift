import Foundation
import Synchronization

/// A run id: 24 lowercase hex digits, the MongoDB ObjectId form, with every adapter (SPEC §2).
public struct RunID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 24 lowercase hex digits.
    public let hex: String

    /// Accepts exactly 24 hex digits (either case; stored lowercase).
    public init(validating text: String) throws(DatabaseError) {
        guard text.utf8.count == 24, text.utf8.allSatisfy(\.isHexDigit) else {
            throw DatabaseError.malformedRunID(text)
        }
        hex = text.lowercased()
    }

    /// A new id: 4 bytes of seconds, 5 random bytes per process, a 3-byte counter, as ObjectIds are made.
    public static func generate(at time: Timestamp = .now) -> RunID {
        let seconds = UInt32(truncatingIfNeeded: time.milliseconds / 1000)
        let count = counter.add(1, ordering: .relaxed).oldValue & 0xFF_FFFF
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<4 { bytes[i] = UInt8(truncatingIfNeeded: seconds >> (24 - 8 * i)) }
        for i in 0..<5 { bytes[4 + i] = processUnique[i] }
        for i in 0..<3 { bytes[9 + i] = UInt8(truncatingIfNeeded: count >> (16 - 8 * i)) }
        return RunID(trusted: hexString(bytes))
    }

    /// The 12 bytes the hex digits spell.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(12)
        var high: UInt8 = 0
        for (i, c) in hex.utf8.enumerated() {
            let v = c.hexValue
            if i % 2 == 0 { high = v } else { out.append(high << 4 | v) }
        }
        return out
    }

    /// Makes an id from 12 bytes (an ObjectId read from MongoDB).
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 12)
        self.init(trusted: Self.hexString(bytes))
    }

    private init(trusted hex: String) { self.hex = hex }

    public var description: String { hex }
    public static func < (lhs: RunID, rhs: RunID) -> Bool { lhs.hex < rhs.hex }

    private static let counter = Atomic<UInt32>(UInt32.random(in: 0...0xFF_FFFF))
    private static let processUnique: [UInt8] = (0..<5).map { _ in UInt8.random(in: 0...255) }

    private static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension RunID: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { try self.init(validating: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self)
    }

    fileprivate var hexValue: UInt8 {
        switch self {
        case 48...57: return self - 48
        case 65...70: return self - 55
        default: return self - 87
        }
    }
}
