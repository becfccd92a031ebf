internal import CMongoC

/// Reads a `bson_t` into `BSONFields` with `bson_iter_t`.
///
/// `bson_iter_t` is declared 128-byte aligned like `bson_t`, so Swift cannot hold one
/// as a stack value either; each iterator lives in heap storage of that alignment
/// for the duration of one read.
enum BSONReader {
    /// The fields of the document at `document` (a `const bson_t *`).
    static func fields(of document: OpaquePointer) throws(DatabaseError) -> BSONFields {
        let iterator = IteratorStorage()
        defer { iterator.release() }
        guard bson_iter_init(iterator.pointer, document) else {
            throw DatabaseError.invalidDocument("corrupt BSON document")
        }
        return try read(iterator.pointer)
    }

    private static func read(_ iterator: OpaquePointer) throws(DatabaseError) -> BSONFields {
        var fields = BSONFields()
        while bson_iter_next(iterator) {
            guard let keyPointer = bson_iter_key(iterator) else { continue }
            let key = String(cString: keyPointer)
            fields.pairs.append((key: key, value: try value(at: iterator)))
        }
        return fields
    }

    private static func value(at iterator: OpaquePointer) throws(DatabaseError) -> BSON {
        let type = bson_iter_type(iterator)
        switch type {
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            guard let text = bson_iter_utf8(iterator, &length) else { return .null }
            let bytes = UnsafeRawBufferPointer(start: text, count: Int(length))
            return .string(String(decoding: bytes, as: UTF8.self))
        case BSON_TYPE_INT32: return .int32(bson_iter_int32(iterator))
        case BSON_TYPE_INT64: return .int64(bson_iter_int64(iterator))
        case BSON_TYPE_DOUBLE: return .double(bson_iter_double(iterator))
        case BSON_TYPE_BOOL: return .bool(bson_iter_bool(iterator))
        case BSON_TYPE_DATE_TIME: return .date(bson_iter_date_time(iterator))
        case BSON_TYPE_NULL, BSON_TYPE_UNDEFINED: return .null
        case BSON_TYPE_OID:
            guard let oid = bson_iter_oid(iterator) else { return .null }
            return .objectID(withUnsafeBytes(of: oid.pointee.bytes) { Array($0) })
        case BSON_TYPE_BINARY:
            var subtype = bson_subtype_t(rawValue: 0)
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>? = nil
            bson_iter_binary(iterator, &subtype, &length, &data)
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: Int(length))) } ?? []
            return .binary(subtype: UInt8(truncatingIfNeeded: subtype.rawValue), bytes: bytes)
        case BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY:
            let child = IteratorStorage()
            defer { child.release() }
            guard bson_iter_recurse(iterator, child.pointer) else {
                throw DatabaseError.invalidDocument("corrupt embedded BSON document")
            }
            let fields = try read(child.pointer)
            return type == BSON_TYPE_ARRAY ? .array(fields.pairs.map(\.value)) : .document(fields)
        default:
            return .unsupported(type.rawValue)
        }
    }

    /// Heap storage for one `bson_iter_t` (no cleanup beyond freeing: libbson documents
    /// an iterator as needing none).
    private struct IteratorStorage {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: cmongoc_iter_size(), alignment: cmongoc_storage_alignment())
        var pointer: OpaquePointer { OpaquePointer(raw) }
        func release() { raw.deallocate() }
    }
}
