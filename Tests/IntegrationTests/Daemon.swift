import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// A daemon binary of this package started as a process, stopped by PID.
final class Daemon: @unchecked Sendable {
    let pid: pid_t
    let name: String
    private(set) var exitStatus: Int32?

    /// Starts `.build/…/debug/<name>` with `environment` added to this process's environment.
    init(_ name: String, environment: [String: String]) throws {
        self.name = name
        let binary = Self.binaryDirectory.appendingPathComponent(name).path
        var merged = ProcessInfo.processInfo.environment
        for key in merged.keys where key.hasPrefix("SIMPLE_SCHEDULER_") && !key.hasPrefix("SIMPLE_SCHEDULER_TEST") {
            merged[key] = nil
        }
        merged.merge(environment) { $1 }
        let env = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let argv = [strdup(binary), nil]
        defer {
            env.forEach { free($0) }
            argv.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(6)).log").path
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let status = posix_spawn(&pid, binary, &actions, nil, argv, env)
        guard status == 0 else { throw DaemonError(description: "cannot start \(binary): \(status)") }
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
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
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
