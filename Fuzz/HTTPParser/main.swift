// libFuzzer target for HTTPRequestParser (built by scripts/fuzz-parser, not by SwiftPM).
//
// Every input is parsed twice: whole, and split in two at an offset taken from its first byte.
// Both must give the same requests and the same error: the parser's result may not depend on
// how the bytes arrive. Crashes, traps and sanitizer reports are findings too.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = HTTPLimits()
    // Small limits, so the fuzzer reaches them.
    limits.maxRequestLine = 256
    limits.maxHeaderBytes = 512
    limits.maxHeaderCount = 8
    limits.maxBody = 1024
    let input = Array(bytes.dropFirst())
    let split = input.isEmpty ? 0 : Int(bytes[0]) % (input.count + 1)
    let whole = parse([input[...]], limits)
    let pieces = parse([input[..<split], input[split...]], limits)
    guard whole == pieces else {
        fatalError("split at \(split) changed the result:\n\(whole)\nvs\n\(pieces)")
    }
    return 0
}

private struct Outcome: Equatable, CustomStringConvertible {
    var requests: [String] = []
    var error: HTTPParseError?
    var description: String { "\(requests) \(error.map { "\($0)" } ?? "-")" }
}

private func parse(_ chunks: [ArraySlice<UInt8>], _ limits: HTTPLimits) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    for chunk in chunks {
        parser.append(chunk)
        do {
            while let request = try parser.next() {
                let headers = request.headers.fields.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
                outcome.requests.append(
                    "\(request.method) \(request.target) 1.\(request.minorVersion) [\(headers)] \(request.body.count)b "
                        + "keepAlive=\(request.keepAlive)")
                _ = HTTPResponse(status: .ok, body: request.body).serialized(headOnly: request.method == "HEAD")
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}
