/// A response to serialize: always with `Content-Length`, never with CR or LF inside a header.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The bytes on the wire. `headOnly` (a HEAD request) keeps the `Content-Length` of the body
    /// it leaves out (RFC 9110 §9.3.2); `close` adds `Connection: close`.
    public func serialized(headOnly: Bool = false, close: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + body.count)
        out.append(contentsOf: "HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
        for (name, value) in headers.fields {
            let lowered = name.lowercased()
            guard lowered != "content-length", lowered != "connection" else { continue }
            out.append(contentsOf: Self.clean(name).utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: Self.clean(value).utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        // 1xx and 204 carry no body and no Content-Length (RFC 9110 §8.6).
        if status.code >= 200 && status.code != 204 {
            out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        }
        if close { out.append(contentsOf: "Connection: close\r\n".utf8) }
        out.append(contentsOf: "\r\n".utf8)
        if !headOnly && status.code != 204 { out.append(contentsOf: body) }
        return out
    }

    /// Header text with CR, LF and NUL removed: a value can never start a new header or response.
    private static func clean(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" }))
    }
}
