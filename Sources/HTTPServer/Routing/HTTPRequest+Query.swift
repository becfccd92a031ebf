extension HTTPRequest {
    /// The target's path, without the query.
    public var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The query's `name=value` pairs in order, percent-decoded with `+` as a space (the form
    /// encoding browsers and curl's `--data-urlencode` use). `nil` when an escape is malformed.
    public var queryItems: [(name: String, value: String)]? {
        guard let mark = target.firstIndex(of: "?") else { return [] }
        var items: [(name: String, value: String)] = []
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in percentDecoded(Substring(String(text.map { $0 == "+" ? " " : $0 }))) }
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            items.append((name, value))
        }
        return items
    }
}

/// Percent-encodes `text` for a query value (RFC 3986 unreserved characters stay as they are).
public func percentEncodedQueryValue(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }
    return out
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
