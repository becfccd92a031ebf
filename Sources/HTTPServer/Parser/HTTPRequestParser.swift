/// An incremental HTTP/1.1 request parser over bytes (RFC 9112), independent of any socket.
///
/// Feed bytes with `append`, take complete requests with `next()` (several, when a client
/// pipelines). Limits are checked as bytes arrive, so an oversized head or a declared body over
/// the limit is refused before it is buffered.
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable {
        case requestLine
        case headers
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.requestLine
    private var head: HTTPRequest?
    private var headerBytes = 0
    private var body: [UInt8] = []

    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 4096, start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Whether nothing of a next request has arrived (a connection idle between requests).
    public var isIdle: Bool {
        if case .requestLine = state { return start == buffer.count }
        return false
    }

    /// Bytes received and not yet taken by `next()`: what a client sent ahead of its answer.
    public var unparsedCount: Int { buffer.count - start }

    /// A head has been read whose body has not fully arrived and which asked for `100 Continue`.
    public var awaitsContinue: Bool {
        guard let head, head.expectsContinue else { return false }
        if case .headers = state { return false }
        return true
    }

    /// The next complete request, or `nil` when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch state {
            case .requestLine:
                // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request.
                while buffer.count - start >= 2, buffer[start] == 13, buffer[start + 1] == 10 { start += 2 }
                guard let line = try takeLine(limit: limits.maxRequestLine, tooLong: .uriTooLong) else { return nil }
                head = try Self.parseRequestLine(line)
                headerBytes = 0
                state = .headers
            case .headers:
                guard let line = try takeLine(limit: limits.maxHeaderBytes - headerBytes, tooLong: .headersTooLarge)
                else { return nil }
                headerBytes += line.count + 2
                if line.isEmpty {
                    state = try bodyState()
                    continue
                }
                guard head!.headers.count < limits.maxHeaderCount else { throw .headersTooLarge }
                let (name, value) = try Self.parseField(line)
                head!.headers.append(name: name, value: value)
            case .body(let remaining):
                let take = min(remaining, buffer.count - start)
                body.append(contentsOf: buffer[start..<start + take])
                start += take
                guard take == remaining else {
                    state = .body(remaining: remaining - take)
                    return nil
                }
                return finish()
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, tooLong: .badRequest("chunk size line too long")) else {
                    return nil
                }
                // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; extensions are ignored.
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.trimmingSpaces
                // Hex digits only: `Int(_:radix:)` alone would also take a sign, and a chunk of
                // size -5 would slice the buffer backwards (found by scripts/fuzz-parser).
                guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy(\.isHexDigit),
                    let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
                else { throw .badRequest("invalid chunk size") }
                guard body.count + size <= limits.maxBody else { throw .bodyTooLarge }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - start)
                body.append(contentsOf: buffer[start..<start + take])
                start += take
                guard take == remaining else {
                    state = .chunkData(remaining: remaining - take)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.count - start >= 2 else { return nil }
                guard buffer[start] == 13, buffer[start + 1] == 10 else { throw .badRequest("chunk not followed by CRLF") }
                start += 2
                state = .chunkSize
            case .trailers:
                // RFC 9112 §7.1.2: trailer fields are read and discarded, within the header limits.
                guard let line = try takeLine(limit: limits.maxHeaderBytes - headerBytes, tooLong: .headersTooLarge)
                else { return nil }
                headerBytes += line.count + 2
                if line.isEmpty { return finish() }
                _ = try Self.parseField(line)
            }
        }
    }

    private mutating func finish() -> HTTPRequest {
        var request = head!
        request.body = body
        head = nil
        body = []
        state = .requestLine
        return request
    }

    /// RFC 9112 §6.3: how the body's length is known.
    private mutating func bodyState() throws(HTTPParseError) -> State {
        let headers = head!.headers
        let codings = headers.tokens("Transfer-Encoding")
        let lengths = headers.values("Content-Length")
        if !codings.isEmpty {
            // §6.3 ¶3: both present is a smuggling vector; refuse rather than guess.
            guard lengths.isEmpty else { throw .badRequest("both Transfer-Encoding and Content-Length") }
            guard head!.minorVersion >= 1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            guard codings == ["chunked"] else {
                throw .notImplemented("unsupported transfer coding '\(codings.joined(separator: ", "))'")
            }
            return .chunkSize
        }
        guard !lengths.isEmpty else { return .body(remaining: 0) }
        // §6.3 ¶5: a list of identical values is one value; different ones are an error.
        let values = Set(lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
            $0.trimmingASCIIWhitespace()
        })
        guard values.count == 1, let text = values.first, !text.isEmpty, text.utf8.count <= 18,
            text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text)
        else { throw .badRequest("invalid Content-Length") }
        guard length <= limits.maxBody else { throw .bodyTooLarge }
        return .body(remaining: length)
    }

    /// The next line without its CRLF, or `nil` when it has not fully arrived.
    private mutating func takeLine(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        var index = start
        while index < buffer.count {
            if buffer[index] == 10 {
                guard index > start, buffer[index - 1] == 13 else { throw .badRequest("line not ended by CRLF") }
                guard index + 1 - start <= limit else { throw tooLong }
                let line = buffer[start..<index - 1]
                start = index + 1
                return line
            }
            index += 1
        }
        guard buffer.count - start <= limit else { throw tooLong }
        return nil
    }

    /// RFC 9112 §3: method SP request-target SP HTTP-version.
    static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(\.isTokenCharacter), !parts[1].isEmpty,
            parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .badRequest("malformed request line") }
        let version = Array(parts[2])
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), version[6] == UInt8(ascii: "."),
            (0x30...0x39).contains(version[5]), (0x30...0x39).contains(version[7])
        else { throw .badRequest("malformed HTTP version") }
        guard version[5] == UInt8(ascii: "1"), version[7] <= UInt8(ascii: "1") else { throw .versionNotSupported }
        return HTTPRequest(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: Int(version[7] - 0x30), headers: HTTPHeaders(), body: [])
    }

    /// RFC 9112 §5: field-name ":" OWS field-value OWS; no space before the colon, no folding.
    static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first, first != 0x20, first != 0x09 else {
            throw .badRequest("obsolete line folding is not accepted")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
            line[line.startIndex..<colon].allSatisfy(\.isTokenCharacter)
        else { throw .badRequest("malformed header field") }
        let value = line[(colon + 1)...].trimmingSpaces
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .badRequest("invalid character in a header value")
        }
        return (String(decoding: line[line.startIndex..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}

extension ArraySlice<UInt8> {
    var trimmingSpaces: ArraySlice<UInt8> {
        var slice = self
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self) }
}
