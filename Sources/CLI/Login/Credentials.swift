import Foundation

/// What `login` keeps: tokens, and what refreshing them needs.
struct Credentials: Codable, Equatable {
    var issuer: String
    var clientID: String
    /// Kept for a confidential client, so it can refresh; the file is 0600.
    var clientSecret: String?
    var tokenEndpoint: String
    var accessToken: String
    var refreshToken: String?
    /// Seconds since 1970 when the access token expires.
    var expiresAt: Double
}

/// `$XDG_CONFIG_HOME/simple-scheduler/credentials.json` (default `~/.config/…`): directory
/// 0700, file 0600, written atomically.
struct CredentialStore {
    let directory: URL

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        directory = config.appendingPathComponent("simple-scheduler")
    }

    var file: URL { directory.appendingPathComponent("credentials.json") }

    func load() throws -> Credentials? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(Credentials.self, from: data)
        } catch {
            throw CLIError("\(file.path) is unreadable (\(error)); run `simple-scheduler logout` and log in again")
        }
    }

    func save(_ credentials: Credentials) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = directory.appendingPathComponent(".credentials-\(UUID().uuidString)")
        // Created 0600 before a byte is written, then renamed over the old file.
        guard manager.createFile(atPath: temporary.path, contents: try encoder.encode(credentials),
                                 attributes: [.posixPermissions: 0o600])
        else { throw CLIError("cannot write \(temporary.path)") }
        guard rename(temporary.path, file.path) == 0 else {
            try? manager.removeItem(at: temporary)
            throw CLIError("cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether there was something to remove.
    func remove() throws -> Bool {
        guard FileManager.default.fileExists(atPath: file.path) else { return false }
        try FileManager.default.removeItem(at: file)
        return true
    }

    /// The stored access token, refreshed first when it expires within 30 s.
    func validAccessToken(now: Date = Date()) async throws -> String? {
        guard var credentials = try load() else { return nil }
        guard credentials.expiresAt < now.timeIntervalSince1970 + 30 else { return credentials.accessToken }
        guard let refreshToken = credentials.refreshToken else {
            throw CLIError("the login has expired; run `simple-scheduler login` again")
        }
        let tokens = try await TokenEndpoint(url: credentials.tokenEndpoint, clientID: credentials.clientID,
                                             clientSecret: credentials.clientSecret)
            .request(["grant_type": "refresh_token", "refresh_token": refreshToken])
        credentials.accessToken = tokens.accessToken
        credentials.refreshToken = tokens.refreshToken ?? refreshToken
        credentials.expiresAt = now.timeIntervalSince1970 + tokens.expiresIn
        try save(credentials)
        return credentials.accessToken
    }
}
