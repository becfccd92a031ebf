/// A BSON value as this adapter writes and reads it: the few types the documents of
/// SPEC §3/§4 use, plus what the server's replies carry.
///
/// Values are plain Swift data so that building a command or reading a reply never
/// holds a C handle; `BSONDocument` converts at the boundary.
enum BSON: Sendable, Equatable {
    case string(String)
    case int32(Int32)
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    /// Milliseconds since the Unix epoch (a BSON UTC datetime).
    case date(Int64)
    /// The 12 bytes of an ObjectId.
    case objectID([UInt8])
    /// Binary data with its BSON subtype (4 is a UUID, as in a server session id).
    case binary(subtype: UInt8, bytes: [UInt8])
    case null
    case document(BSONFields)
    case array([BSON])
    /// A type this adapter neither writes nor needs to read (its BSON type byte).
    case unsupported(UInt32)

    /// The date the original Go service wrote for an unset time: 0001-01-01T00:00:00Z.
    static let zeroTimeMilliseconds: Int64 = -62_135_596_800_000

    static func date(_ time: Timestamp) -> BSON { .date(time.milliseconds) }

    /// A time, or `null` when unset.
    static func date(_ time: Timestamp?) -> BSON { time.map { .date($0.milliseconds) } ?? .null }

    static func objectID(_ id: RunID) -> BSON { .objectID(id.bytes) }

    /// An integer as int64 (durations and counts are int64 in this adapter's documents).
    static func int(_ value: Int) -> BSON { .int64(Int64(value)) }

    /// An ObjectId when `id` is 24 hex digits, else the string: manager ids are ObjectIds
    /// in the original's documents, but the protocol does not forbid other strings.
    static func identifier(_ id: String) -> BSON {
        if let runID = try? RunID(validating: id), runID.hex == id { return .objectID(runID.bytes) }
        return .string(id)
    }

    /// Both encodings `identifier(_:)` may have stored, for filters that must match either.
    static func identifierForms(_ id: String) -> [BSON] {
        let primary = identifier(id)
        return primary == .string(id) ? [primary] : [primary, .string(id)]
    }

    // MARK: Reading

    /// The value as an integer when it is a whole number of any numeric type.
    var intValue: Int? {
        switch self {
        case .int32(let v): return Int(v)
        case .int64(let v): return Int(v)
        case .double(let v): return v.rounded() == v && abs(v) < 9e15 ? Int(v) : nil
        default: return nil
        }
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var documentValue: BSONFields? {
        if case .document(let d) = self { return d }
        return nil
    }

    var arrayValue: [BSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// An ObjectId as 24 lowercase hex digits.
    var objectIDHex: String? {
        if case .objectID(let bytes) = self, bytes.count == 12 { return RunID(bytes: bytes).hex }
        return nil
    }
}

extension BSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals are int32: index directions, flags and small command options.
    init(integerLiteral value: Int32) { self = .int32(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: BSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, BSON)...) { self = .document(BSONFields(elements)) }
    init(nilLiteral: ()) { self = .null }
}

/// An ordered BSON document: the order matters (a command's first key names the command).
struct BSONFields: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    var pairs: [(key: String, value: BSON)]

    init(_ pairs: [(String, BSON)] = []) { self.pairs = pairs.map { (key: $0.0, value: $0.1) } }
    init(dictionaryLiteral elements: (String, BSON)...) { self.init(elements) }

    /// The first value under `key`; `nil` when absent.
    subscript(key: String) -> BSON? {
        get { pairs.first { $0.key == key }?.value }
        set {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key: key, value: newValue))
            }
        }
    }

    var isEmpty: Bool { pairs.isEmpty }

    static func == (lhs: BSONFields, rhs: BSONFields) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
