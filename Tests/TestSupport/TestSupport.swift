import CLinuxSocket
import Foundation
import SchedulerCore
import Synchronization
import Testing

// Helpers shared by the unit and integration test targets.

/// Reads deliveries one at a time with a bound, so a missing message fails instead of hanging.
///
/// A background task drains the stream into a buffer: cancelling a waiting `next()` on an
/// `AsyncStream` would end the stream, so timeouts must never cancel the iteration itself.
public final class DeliveryReader: Sendable {
    private final class Buffer: Sendable {
        let state = Mutex<(items: [Delivery], finished: Bool)>(([], false))
        func withLock<T: Sendable>(_ body: (inout (items: [Delivery], finished: Bool)) -> T) -> T {
            state.withLock { body(&$0) }
        }
    }

    private let buffer = Buffer()
    private let drain: Task<Void, Never>

    public init(_ consumer: Consumer) {
        let buffer = self.buffer
        drain = Task {
            for await delivery in consumer.deliveries { buffer.withLock { $0.items.append(delivery) } }
            buffer.withLock { $0.finished = true }
        }
    }

    deinit { drain.cancel() }

    public func next(within timeout: Duration = .seconds(10)) async throws -> Delivery {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (item, finished) = buffer.withLock { state -> (Delivery?, Bool) in
                state.items.isEmpty ? (nil, state.finished) : (state.items.removeFirst(), false)
            }
            if let item { return item }
            if finished { throw TimedOut(what: "a delivery: the stream ended") }
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "a delivery within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Expects no delivery within `window` (for prefetch limits: an absence cannot be awaited).
    public func expectNothing(within window: Duration) async throws {
        do {
            let delivery = try await next(within: window)
            Issue.record("unexpected delivery: \(String(decoding: delivery.body, as: UTF8.self))")
        } catch is TimedOut {}
    }
}

public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// Runs a program and returns its exit status and standard output, off the cooperative pool.
///
/// posix_spawn and waitpid rather than Foundation's Process: `Process.waitUntilExit` did not
/// return here for a script that leaves a daemon behind (test-broker start). Output goes
/// through a file, not a pipe, for the same daemon's sake.
public func runProgram(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try spawnAndWait(path, arguments) })
        }
    }
}

private func spawnAndWait(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).out").path
    defer { unlink(outputPath) }
    let pid = try spawn(path, arguments, environment: nil, output: outputPath)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (exitStatus(status), (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
}

/// Runs `path` to its end with exactly `environment`, keeping standard output and error apart.
public func runProgram(
    _ path: String, _ arguments: [String], environment: [String: String]
) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result {
                let base = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)").path
                defer { unlink(base + ".out"); unlink(base + ".err") }
                let pid = try spawn(path, arguments, environment: environment, output: base + ".out", errorOutput: base + ".err")
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let read = { (file: String) in (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
                return (exitStatus(status), read(base + ".out"), read(base + ".err"))
            })
        }
    }
}

/// Starts `path` with standard input from /dev/null and standard output and error into the file
/// `output` (standard error into `errorOutput` when given); `environment` nil keeps this
/// process's. Returns the child's PID.
public func spawn(
    _ path: String, _ arguments: [String], environment: [String: String]?, output: String, errorOutput: String? = nil
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if let errorOutput {
        posix_spawn_file_actions_addopen(&actions, 2, errorOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    // Nothing else: a daemon that inherited a test's socket would keep it open after the test
    // closed it (the server under test would never see the client leave).
    clinux_spawn_close_from(&actions, 3)
    // Children start with default signal dispositions and an empty mask, whatever this
    // process has set up (a daemon under test must be stoppable with SIGTERM).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let env = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
    defer { env?.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = env.map { posix_spawn(&pid, path, &actions, &attributes, argv, $0) }
        ?? posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard spawned == 0 else { throw TimedOut(what: "spawning \(path): error \(spawned)") }
    return pid
}

/// A `waitpid` status as a shell reports it: the exit code, or 128 + the signal.
public func exitStatus(_ status: Int32) -> Int32 {
    (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// The URL of a test server started by scripts/test; a missing one fails the test loudly.
public func requiredEnvironment(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw MissingTestServer(variable: name)
    }
    return value
}

public struct MissingTestServer: Error, CustomStringConvertible {
    public let variable: String
    public var description: String { "\(variable) is not set: run the tests with scripts/test, which starts the servers" }
}

extension Timestamp {
    /// A fixed instant for tests: 2025-01-29T10:00:00Z plus `seconds`.
    public static func test(_ seconds: Int64 = 0) -> Timestamp {
        Timestamp(milliseconds: 1_738_144_800_000 + seconds * 1000)
    }
}

/// Waits (in real time, bounded) until `condition` holds.
public func eventually(
    _ timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
    throw TimedOut(what: "a condition")
}

