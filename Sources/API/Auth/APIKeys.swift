import COpenSSL
import Foundation
import HTTPServer
import SchedulerCore

/// Machine credentials (SPEC §7): a file of `NAME SHA256-HEX SCOPE…` lines (`#` starts a
/// comment). Only hashes are stored; a presented key is hashed and compared with every entry in
/// constant time, so neither a key nor which entry matched leaks through timing.
struct APIKeys: Sendable {
    struct Entry: Sendable {
        var name: String
        var hash: [UInt8]
        var scopes: Set<String>
    }

    static let prefix = "ssk_"

    let entries: [Entry]

    struct FileError: Error, CustomStringConvertible { let description: String }

    init(entries: [Entry]) { self.entries = entries }

    init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw FileError(description: "cannot read the API keys file \(path)")
        }
        try self.init(parsing: text, source: path)
    }

    init(parsing text: String, source: String = "API keys") throws {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard !fields.isEmpty else { continue }
            guard fields.count >= 3, let hash = Self.hexBytes(fields[1]), hash.count == 32 else {
                throw FileError(
                    description: "\(source) line \(index + 1): expected 'NAME SHA256-HEX SCOPE…' with a 64-digit hash")
            }
            entries.append(Entry(name: String(fields[0]), hash: hash, scopes: Set(fields[2...].map(String.init))))
        }
        self.entries = entries
    }

    func authenticate(_ key: String) throws(HTTPError) -> Identity {
        let digest = Self.sha256(Array(key.utf8))
        var found: Entry?
        for entry in entries where CRYPTO_memcmp(entry.hash, digest, 32) == 0 {
            found = entry  // no early exit: every entry is compared
        }
        guard let found else { throw .unauthorized("the API key is not valid") }
        return Identity(subject: "key:\(found.name)", scopes: found.scopes)
    }

    /// A new random key and the line for the keys file.
    static func create(name: String, scopes: [String]) throws -> (key: String, line: String) {
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" || $0 == "#" }) else {
            throw FileError(description: "the key name must be one word without '#'")
        }
        guard !scopes.isEmpty else { throw FileError(description: "give the key at least one scope") }
        var random = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&random, 32) == 1 else { throw FileError(description: "OpenSSL could not produce random bytes") }
        let key = prefix + base64URL(Data(random))
        let hash = sha256(Array(key.utf8)).map { String(format: "%02x", $0) }.joined()
        return (key, "\(name) \(hash) \(scopes.joined(separator: " "))")
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil)
        return digest
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
