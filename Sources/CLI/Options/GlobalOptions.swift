import ArgumentParser
import Foundation

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Aligned tables, times in the local time zone.
    case table
    /// The API's JSON, unchanged.
    case json
}

/// Options every command takes, after its name (`list jobs -o json`).
struct GlobalOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "The API's base URL (env SIMPLE_SCHEDULER_URL).")
    var url: String = ProcessInfo.processInfo.environment["SIMPLE_SCHEDULER_URL"] ?? "http://localhost:8080/api"

    @Option(help: "An API key (ssk_…) or a bearer token (env SIMPLE_SCHEDULER_TOKEN); default: the login's.")
    var token: String?

    @Option(name: [.short, .long], help: "Output format: table or json.")
    var output: OutputFormat = .table

    /// A client with the token to use: the flag's, the environment's, else the stored login's
    /// (refreshed first when it has expired).
    func client() async throws -> APIClient {
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
            throw ValidationError("--url must be an http or https URL (got '\(url)')")
        }
        let environment = ProcessInfo.processInfo.environment["SIMPLE_SCHEDULER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let token = token ?? environment { return APIClient(base: base, token: token) }
        return APIClient(base: base, token: try await CredentialStore().validAccessToken())
    }
}
