import Foundation
import Testing

@testable import ExampleWorker
import TestSupport

/// Children get standard input, output and error, and none of their parent's other descriptors.
@Suite struct SpawnTests {
    /// The descriptors a child sees, as `readlink` names them, with a socket open in this process
    /// that was made without close-on-exec.
    static func childDescriptors(_ start: (_ command: String) async throws -> Void) async throws -> [String] {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { pair.forEach { close($0) } }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)").path
        try await start(#"for f in /proc/$$/fd/*; do readlink "$f"; done > \#(out)"#)
        return try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func testDaemonsInheritNoSocketOfTheTests() async throws {
        let links = try await Self.childDescriptors { command in
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
            let pid = try spawn("/bin/sh", ["-c", command], environment: nil, output: log)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        #expect(!links.isEmpty && !links.contains { $0.hasPrefix("socket:") }, "\(links)")
    }

    @Test func jobCommandsInheritNoSocketOfTheWorker() async throws {
        let links = try await Self.childDescriptors { command in
            let child = try ChildProcess(shellCommand: command, environment: [:])
            _ = await child.exitStatus()
        }
        #expect(!links.isEmpty && !links.contains { $0.hasPrefix("socket:") }, "\(links)")
    }
}
