import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// A daemon with bad settings says which, in one line, and exits non-zero (SPEC §8).
@Suite struct StartupTests {
    @Test(arguments: ["scheduler", "custodian"])
    func aBadSettingStopsStartUpWithOneLineNamingIt(_ program: String) async throws {
        let daemon = try Daemon(
            program, environment: ["SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": "soon", "SIMPLE_SCHEDULER_DB_TYPE": "oracle"])
        #expect(try await daemon.wait(timeout: .seconds(20)) == 2)
        let lines = daemon.output.split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("\(program): invalid configuration:") == true)
        #expect(lines.first?.contains("SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT") == true)
        #expect(lines.first?.contains("SIMPLE_SCHEDULER_DB_TYPE") == true)
    }
}

/// `api` refuses to run without authentication, or with a keys file it cannot use.
@Suite struct APIStartupTests {
    @Test func withoutAnIssuerOrAKeysFileTheAPIRefusesToStart() async throws {
        let api = try Daemon("api", environment: [:])
        #expect(try await api.wait(timeout: .seconds(20)) == 2)
        let lines = api.output.split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("SIMPLE_SCHEDULER_OIDC_ISSUER") == true)
        #expect(lines.first?.contains("SIMPLE_SCHEDULER_API_KEYS_FILE") == true)
    }

    @Test func anUnreadableOrMalformedKeysFileIsNamed() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-keys-\(UUID().uuidString)").path
        try "robot not-a-hash jobs:read\n".write(toFile: file, atomically: true, encoding: .utf8)
        for path in [file, "/nonexistent/keys"] {
            let api = try Daemon("api", environment: ["SIMPLE_SCHEDULER_API_KEYS_FILE": path])
            #expect(try await api.wait(timeout: .seconds(20)) == 2)
            let lines = api.output.split(separator: "\n")
            #expect(lines.count == 1, "\(lines)")
            #expect(lines.first?.hasPrefix("api: SIMPLE_SCHEDULER_API_KEYS_FILE:") == true, "\(lines)")
        }
    }
}
