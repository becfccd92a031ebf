/// An AMQP URL read as the original Go service read it (SPEC §8), not as librabbitmq's
/// `amqp_parse_url` does: that takes `amqp://host:5672/` as the empty vhost, which the broker
/// refuses. Here a bare trailing slash and no path both mean vhost `/`, `%2f` is decoded,
/// and a named vhost follows the slash.
public struct AMQPURL: Hashable, Sendable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    /// Requested AMQP heartbeat in seconds (`?heartbeat=`; default 10).
    public var heartbeat: Int
    /// CA bundle for `amqps://` (`?cacertfile=`; default Debian's system bundle).
    public var caCertificateFile: String

    public init(_ text: String) throws(MessageBusError) {
        let rest: Substring
        if text.hasPrefix("amqp://") {
            tls = false
            rest = text.dropFirst(7)
        } else if text.hasPrefix("amqps://") {
            tls = true
            rest = text.dropFirst(8)
        } else {
            throw .invalidURL("message bus URL must start with amqp:// or amqps://")
        }
        var authority = rest
        var path: Substring = ""
        var query: Substring = ""
        if let question = authority.firstIndex(of: "?") {
            query = authority[authority.index(after: question)...]
            authority = authority[..<question]
        }
        if let slash = authority.firstIndex(of: "/") {
            path = authority[authority.index(after: slash)...]
            authority = authority[..<slash]
        }
        user = "guest"
        password = "guest"
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decode(credentials[..<colon])
                password = try Self.decode(credentials[credentials.index(after: colon)...])
            } else {
                user = try Self.decode(credentials)
                password = ""
            }
        }
        port = tls ? 5671 : 5672
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = try Self.port(authority[authority.index(after: colon)...])
        } else {
            host = String(authority)
        }
        if host.isEmpty { host = "localhost" }
        vhost = path.isEmpty ? "/" : try Self.decode(path)
        heartbeat = 10
        caCertificateFile = "/etc/ssl/certs/ca-certificates.crt"
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == "cacertfile" { caCertificateFile = try Self.decode(parts[1]) }
            if parts.count == 2, parts[0] == "heartbeat" {
                guard let seconds = Int(parts[1]), (0...3600).contains(seconds) else {
                    throw .invalidURL("heartbeat must be seconds from 0 to 3600")
                }
                heartbeat = seconds
            }
        }
    }

    private static func port(_ text: Substring) throws(MessageBusError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw .invalidURL("'\(text)' is not a port") }
        return port
    }

    private static func decode(_ text: Substring) throws(MessageBusError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidURL("bad percent-escape in message bus URL")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }

    /// The URL with the password hidden.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "amqps" : "amqp")://\(user):***@\(shownHost):\(port) vhost \(vhost)"
    }
}
