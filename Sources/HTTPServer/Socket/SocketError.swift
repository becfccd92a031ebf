import Glibc

/// A failed socket call: which call and the `errno` text.
public struct SocketError: Error, Hashable, Sendable, CustomStringConvertible {
    public let call: String
    public let code: Int32

    init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}
