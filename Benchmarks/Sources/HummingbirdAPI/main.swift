// The reference server of the API benchmark: Hummingbird 2 serving the benchmarked routes with
// the same storage code (SchedulerCore's SQLiteDatabase) and the same API-key check (SHA-256 with
// libcrypto, constant-time compare) as our `api`, answering the same bytes. It encodes with
// Foundation's JSONEncoder (sorted keys), as a Hummingbird handler returning Codable values does;
// our `api` writes runs and jobs with its own writer (Sources/API/Routes/JSONBody.swift), which
// JSONBodyTests holds to JSONEncoder's bytes.
//
//   HummingbirdAPI SQLITE_PATH PORT KEYS_FILE
import CCryptoBench
import Foundation
import Hummingbird
import Logging
import NIOCore
import SchedulerCore

let arguments = CommandLine.arguments
guard arguments.count >= 4, let port = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: HummingbirdAPI SQLITE_PATH PORT KEYS_FILE\n".utf8))
    exit(2)
}
let logger: Logger = {
    var logger = Logger(label: "hummingbird")
    logger.logLevel = .warning
    return logger
}()
let database = SQLiteDatabase(path: arguments[1], logger: logger)
try await database.prepare()
// `NAME SHA256-HEX SCOPE…` lines, as the api reads them.
let keyHashes: [[UInt8]] = try String(contentsOfFile: arguments[3], encoding: .utf8).split(separator: "\n")
    .filter { !$0.hasPrefix("#") }.compactMap { line in
        let fields = line.split(separator: " ")
        guard fields.count >= 2 else { return nil }
        var bytes: [UInt8] = []
        var hex = fields[1][...]
        while hex.count >= 2 {
            bytes.append(UInt8(hex.prefix(2), radix: 16) ?? 0)
            hex = hex.dropFirst(2)
        }
        return bytes
    }

@Sendable func authorized(_ request: Request) -> Bool {
    guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
    let key = Array(header.dropFirst(7).utf8)
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    EVP_Digest(key, key.count, &digest, &length, EVP_sha256(), nil)
    var found = false
    for hash in keyHashes where CRYPTO_memcmp(hash, digest, 32) == 0 { found = true }
    return found
}

@Sendable func json(_ status: HTTPResponse.Status, _ data: Data) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

@Sendable func encode(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
}

let unauthorized = Data(#"{"error":"the API key is not valid"}"#.utf8)
let router = Router()
router.get("api/status") { _, _ in json(.ok, Data(#"{"status":"OK"}"#.utf8)) }
router.get("api/jobs/:name") { request, context in
    guard authorized(request) else { return json(.unauthorized, unauthorized) }
    let name = context.parameters.get("name") ?? ""
    guard let job = try await database.job(named: name) else { return json(.notFound, Data(#"{"error":"no job"}"#.utf8)) }
    return json(.ok, try encode(job))
}
router.get("api/runs") { request, _ in
    guard authorized(request) else { return json(.unauthorized, unauthorized) }
    let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
    let page = try await database.runs(matching: RunQuery(), after: nil, limit: limit)
    return json(.ok, try encode(page.items))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
