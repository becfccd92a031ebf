import CLinuxSocket
import Foundation

/// A `/bin/sh -c` command in a process group of its own, so a cancel reaches everything it
/// started. Its exit is awaited on a dedicated thread (waitpid blocks).
final class ChildProcess: Sendable {
    let pid: pid_t

    struct SpawnError: Error, CustomStringConvertible { let description: String }

    init(shellCommand: String, environment extra: [String: String]) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The worker's signal handling (ServiceLifecycle ignores SIGTERM and SIGINT to read them
        // itself) is inherited across exec: give the command default dispositions and an empty
        // mask, or a cancel's SIGTERM would be ignored.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { $1 }
        let words: [String] = ["/bin/sh", "-c", shellCommand]
        let argv = words.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Only standard input, output and error: not the worker's broker connection.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        clinux_spawn_close_from(&actions, 3)
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(description: "posix_spawn failed: \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Signals the command's whole process group.
    func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    /// The exit status (128 + n for signal n).
    func exitStatus() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                continuation.resume(returning: code)
            }
        }
    }
}
