import Testing

@testable import HTTPServer

/// Parser fixtures, each fed whole and split at every byte offset.
@Suite struct HTTPRequestParserTests {
    /// Parses `text` fed as `pieces`; returns the requests, or the error.
    private func parse(_ bytes: [UInt8], splitAt cuts: [Int] = [], limits: HTTPLimits = HTTPLimits())
        -> Result<[HTTPRequest], HTTPParseError>
    {
        var parser = HTTPRequestParser(limits: limits)
        var requests: [HTTPRequest] = []
        var previous = 0
        do {
            for cut in cuts + [bytes.count] {
                parser.append(bytes[previous..<cut])
                previous = cut
                while let request = try parser.next() { requests.append(request) }
            }
            return .success(requests)
        } catch {
            return .failure(error)
        }
    }

    /// The same outcome whole and split anywhere (once, and at every byte).
    private func everySplit(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Result<[HTTPRequest], HTTPParseError> {
        let bytes = Array(text.utf8)
        let whole = parse(bytes, limits: limits)
        for cut in 0...bytes.count {
            #expect(summary(parse(bytes, splitAt: [cut], limits: limits)) == summary(whole), "split at \(cut)")
        }
        #expect(summary(parse(bytes, splitAt: Array(0..<bytes.count), limits: limits)) == summary(whole), "byte by byte")
        return whole
    }

    private func summary(_ result: Result<[HTTPRequest], HTTPParseError>) -> String {
        switch result {
        case .success(let requests):
            return requests.map { r in
                "\(r.method) \(r.target) 1.\(r.minorVersion) \(r.headers.fields.map { "\($0.name)=\($0.value)" }) \(r.body)"
            }.joined(separator: " | ")
        case .failure(let error): return "error \(error.status)"
        }
    }

    @Test func aSimpleGetKeepsItsHeadersInOrderWithDuplicates() throws {
        let requests = try everySplit("GET /api/jobs?limit=5 HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept: b\r\n\r\n").get()
        #expect(requests.count == 1)
        let request = requests[0]
        #expect(request.method == "GET" && request.target == "/api/jobs?limit=5" && request.minorVersion == 1)
        #expect(request.headers.values("ACCEPT") == ["a", "b"])
        #expect(request.headers.fields.map(\.name) == ["Host", "Accept", "accept"])
        #expect(request.keepAlive && request.body.isEmpty)
    }

    @Test func bodiesByLengthAndChunkedAndPipelining() throws {
        let text = "POST /a HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello"
            + "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
            + "GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        let requests = try everySplit(text).get()
        #expect(requests.map(\.target) == ["/a", "/b", "/c"])
        #expect(requests[0].body == Array("hello".utf8))
        #expect(requests[1].body == Array("abc0123456789".utf8))
        #expect(requests[2].minorVersion == 0 && requests[2].keepAlive)
    }

    @Test func connectionCloseAndHTTP10Defaults() throws {
        #expect(try !everySplit("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").get()[0].keepAlive)
        #expect(try !everySplit("GET / HTTP/1.0\r\n\r\n").get()[0].keepAlive)
        #expect(try everySplit("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx").get()[0].expectsContinue)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / HTTP/1.2\r\n\r\n", 505),
        ("GET / HTTX/1.1\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        // Signed sizes: found by the fuzzer; -5 used to slice the buffer backwards and trap.
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400),
    ] as [(String, Int)])
    func framingErrorsMapToTheirStatus(_ text: String, _ status: Int) {
        #expect(summary(everySplit(text)) == "error \(status)")
    }

    @Test func requestLineLimitAtTheBoundaryAndOneOver() {
        let limits = HTTPLimits()
        let fixed = "GET  HTTP/1.1\r\n".utf8.count
        let fits = "GET /" + String(repeating: "a", count: limits.maxRequestLine - fixed - 1) + " HTTP/1.1\r\n\r\n"
        #expect(summary(parse(Array(fits.utf8))).hasPrefix("GET"))
        let over = "GET /" + String(repeating: "a", count: limits.maxRequestLine - fixed) + " HTTP/1.1\r\n\r\n"
        #expect(summary(parse(Array(over.utf8))) == "error 414")
        // Refused before the line ends: the limit holds for a client that never sends CRLF.
        #expect(summary(parse(Array(over.utf8.prefix(limits.maxRequestLine + 1)))) == "error 414")
    }

    @Test func headerLimitsAtTheBoundaryAndOneOver() {
        let hundred = (0..<100).map { "X-\($0): v\r\n" }.joined()
        #expect(summary(parse(Array("GET / HTTP/1.1\r\n\(hundred)\r\n".utf8))).hasPrefix("GET"))
        #expect(summary(parse(Array("GET / HTTP/1.1\r\n\(hundred)X-100: v\r\n\r\n".utf8))) == "error 431")

        var limits = HTTPLimits()
        limits.maxHeaderBytes = 64
        // "X: " + value + CRLF, then the empty line's CRLF: exactly 64 bytes of header section.
        let exact = "X: " + String(repeating: "v", count: 64 - 5 - 2) + "\r\n\r\n"
        #expect(summary(parse(Array("GET / HTTP/1.1\r\n\(exact)".utf8), limits: limits)).hasPrefix("GET"))
        let over = "X: " + String(repeating: "v", count: 64 - 5 - 1) + "\r\n\r\n"
        #expect(summary(parse(Array("GET / HTTP/1.1\r\n\(over)".utf8), limits: limits)) == "error 431")
    }

    @Test func bodyLimitIsCheckedAgainstTheDeclaredLengthFirst() {
        var limits = HTTPLimits()
        limits.maxBody = 10
        #expect(summary(parse(Array("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789".utf8), limits: limits)).hasPrefix("POST"))
        // One over, refused from the head alone: no body byte was sent.
        #expect(summary(parse(Array("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n".utf8), limits: limits)) == "error 413")
        let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n"
        #expect(summary(parse(Array(chunked.utf8), limits: limits)) == "error 413")
    }
}
