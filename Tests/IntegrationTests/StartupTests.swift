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
