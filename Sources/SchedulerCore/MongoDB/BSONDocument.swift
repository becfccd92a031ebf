internal import CMongoC

/// The owner of one heap `bson_t`, destroyed in `deinit`.
///
/// Debian's `bson_t` is 128-byte aligned and imports as `OpaquePointer` (see the
/// CMongoC shim), so documents are never Swift stack values: either `bson_new`
/// (built documents) or heap storage of the right alignment handed to libmongoc
/// as a reply out parameter, which libmongoc initializes and we destroy.
/// Not `Sendable`: a document lives within one operation on one thread.
final class BSONDocument {
    /// The `bson_t *`.
    let pointer: OpaquePointer
    /// Storage we allocated for a reply (nil for `bson_new` documents).
    private let replyStorage: UnsafeMutableRawPointer?

    /// A document holding `fields`.
    init(_ fields: BSONFields) throws(DatabaseError) {
        guard let pointer = bson_new() else { throw DatabaseError.invalidArgument("bson_new failed (out of memory)") }
        self.pointer = pointer
        replyStorage = nil
        for (key, value) in fields.pairs {
            try Self.append(value, key: key, to: pointer)
        }
    }

    /// Empty storage for a libmongoc reply out parameter. It is initialized here too, so
    /// destroying it is safe even when a call fails before it writes the reply.
    init(reply: Void) {
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: cmongoc_bson_size(), alignment: cmongoc_storage_alignment())
        replyStorage = storage
        pointer = OpaquePointer(storage)
        bson_init(pointer)
    }

    deinit {
        // For reply storage bson_init set the static flag: bson_destroy frees only the
        // document's data, and the struct's storage is ours to release.
        bson_destroy(pointer)
        replyStorage?.deallocate()
    }

    /// The document as Swift values.
    func fields() throws(DatabaseError) -> BSONFields {
        try BSONReader.fields(of: pointer)
    }

    private static func append(_ value: BSON, key: String, to document: OpaquePointer) throws(DatabaseError) {
        let keyLength = Int32(key.utf8.count)
        let ok = key.withCString { k -> Bool in
            switch value {
            case .string(let s):
                return s.withCString { bson_append_utf8(document, k, keyLength, $0, Int32(s.utf8.count)) }
            case .int32(let v): return bson_append_int32(document, k, keyLength, v)
            case .int64(let v): return bson_append_int64(document, k, keyLength, v)
            case .double(let v): return bson_append_double(document, k, keyLength, v)
            case .bool(let v): return bson_append_bool(document, k, keyLength, v)
            case .date(let ms): return bson_append_date_time(document, k, keyLength, ms)
            case .null: return bson_append_null(document, k, keyLength)
            case .objectID(let bytes):
                guard bytes.count == 12 else { return false }
                var oid = bson_oid_t()
                withUnsafeMutableBytes(of: &oid.bytes) { $0.copyBytes(from: bytes) }
                return bson_append_oid(document, k, keyLength, &oid)
            case .binary(let subtype, let bytes):
                return bytes.withUnsafeBufferPointer {
                    bson_append_binary(
                        document, k, keyLength, bson_subtype_t(rawValue: UInt32(subtype)), $0.baseAddress,
                        UInt32($0.count))
                }
            case .document(let fields):
                guard let child = try? BSONDocument(fields) else { return false }
                return bson_append_document(document, k, keyLength, child.pointer)
            case .array(let items):
                let indexed = BSONFields(items.enumerated().map { (String($0.offset), $0.element) })
                guard let child = try? BSONDocument(indexed) else { return false }
                return bson_append_array(document, k, keyLength, child.pointer)
            case .unsupported:
                return false
            }
        }
        // bson_append_* fail only when the document would pass the 16 MB BSON limit, or
        // for a value we cannot write.
        guard ok else { throw DatabaseError.invalidArgument("cannot write field '\(key)' (document too large?)") }
    }
}
