import ArgumentParser
import Foundation

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Logs in through the OIDC issuer in a browser (authorization code with PKCE).",
        discussion: "The tokens are kept in $XDG_CONFIG_HOME/simple-scheduler/credentials.json (mode 0600).")

    @Option(help: "The OIDC issuer URL (env SIMPLE_SCHEDULER_OIDC_ISSUER).")
    var issuer: String?

    @Option(name: .customLong("client-id"), help: "The OIDC client (env SIMPLE_SCHEDULER_OIDC_CLIENT_ID).")
    var clientID: String?

    @Option(name: .customLong("client-secret"), help: "For a confidential client (env SIMPLE_SCHEDULER_OIDC_CLIENT_SECRET).")
    var clientSecret: String?

    @Option(name: .customLong("callback-port"), help: "Port of the http://localhost:PORT/callback redirect.")
    var callbackPort: Int = 5556

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let issuer = issuer ?? environment["SIMPLE_SCHEDULER_OIDC_ISSUER"], !issuer.isEmpty else {
            throw ValidationError("give --issuer or set SIMPLE_SCHEDULER_OIDC_ISSUER")
        }
        guard let clientID = clientID ?? environment["SIMPLE_SCHEDULER_OIDC_CLIENT_ID"], !clientID.isEmpty else {
            throw ValidationError("give --client-id or set SIMPLE_SCHEDULER_OIDC_CLIENT_ID")
        }
        guard (0...65535).contains(callbackPort) else { throw ValidationError("--callback-port must be 0–65535 (0: any free port)") }
        let secret = (clientSecret ?? environment["SIMPLE_SCHEDULER_OIDC_CLIENT_SECRET"]).flatMap { $0.isEmpty ? nil : $0 }
        let credentials = try await OIDCLogin(
            issuer: issuer, clientID: clientID, clientSecret: secret, callbackPort: callbackPort
        ).run()
        let store = CredentialStore()
        try store.save(credentials)
        try Printer(format: global.output).done(
            "logged in to \(issuer); tokens kept in \(store.file.path)", json: ["issuer": issuer])
    }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Forgets the stored login.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let removed = try CredentialStore().remove()
        try Printer(format: global.output).done(removed ? "logged out" : "not logged in", json: ["loggedOut": removed])
    }
}
