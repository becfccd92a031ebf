import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// A daemon binary of this package started as a process, stopped by PID.
final class Daemon: @unchecked Sendable {
    let pid: pid_t
    let name: String
    private(set) var exitStatus: Int32?

    /// Starts `.build/…/debug/<name>` (or `name` itself when it is an absolute path) with
    /// `environment` added to this process's environment.
    init(_ name: String, environment: [String: String], arguments: [String] = []) throws {
        self.name = name
        let binary = name.hasPrefix("/") ? name : Self.binaryDirectory.appendingPathComponent(name).path
        var merged = ProcessInfo.processInfo.environment
        for key in merged.keys where key.hasPrefix("SIMPLE_SCHEDULER_") && !key.hasPrefix("SIMPLE_SCHEDULER_TEST") {
            merged[key] = nil
        }
        merged.merge(environment) { $1 }
        let base = URL(fileURLWithPath: name).lastPathComponent
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(base)-\(UUID().uuidString.prefix(6)).log").path
        let pid = try spawn(binary, arguments, environment: merged, output: log)
        self.pid = pid
        self.log = log
    }

    let log: String

    static var binaryDirectory: URL {
        // The test bundle sits beside the products in .build/<triple>/debug.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits (bounded) for the process to end; returns its exit status (128+n for signal n).
    func wait(timeout: Duration = .seconds(20)) async throws -> Int32 {
        if let exitStatus { return exitStatus }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let code = TestSupport.exitStatus(status)
                exitStatus = code
                return code
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DaemonError(description: "\(name) did not exit within \(timeout); log: \(log)")
    }

    /// Kills it if it still runs (test clean-up).
    func stop() async {
        guard exitStatus == nil else { return }
        signal(SIGKILL)
        _ = try? await wait(timeout: .seconds(10))
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
}

/// Waits (in real time, bounded) until `condition` holds.
func waitUntil(
    _ timeout: Duration = .seconds(20), _ what: String, _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw DaemonError(description: "timed out after \(timeout) waiting for \(what)")
}
