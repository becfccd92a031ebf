import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// A blocking loopback TCP client for abusing the server byte by byte.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            throw DaemonError(description: "cannot connect to port \(port): errno \(errno)")
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads until the peer closes or `limit` bytes; the status code of the first response.
    func readStatus(limit: Int = 1 << 16) -> Int? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < limit {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            data += buffer[..<count]
            if let text = String(bytes: data, encoding: .utf8), text.contains("\r\n\r\n") { break }
        }
        let line = String(decoding: data.prefix { $0 != 13 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}

/// Issue 10 (6): the api binary under idle floods, slowloris and oversized requests.
extension BrokerTests {
@Suite("Faults: HTTP")
struct HTTPFaultTests {
    static func startAPI() async throws -> (api: Daemon, port: Int, key: String) {
        let fixture = try await DaemonFixture(.sqlite)
        let (key, keysFile) = try await APIDaemonTests.createKey(scopes: "jobs:read jobs:write runs:read runs:write")
        let (api, port) = try await APIDaemonTests.startAPI(
            fixture.environment(["SIMPLE_SCHEDULER_API_KEYS_FILE": keysFile]))
        return (api, port, key)
    }

    @Test func idleConnectionsAndSlowlorisDoNotStarveANormalClient() async throws {
        let (api, port, key) = try await Self.startAPI()
        let idle = try (0..<500).map { _ in try RawConnection(port: port) }
        let slow = try (0..<50).map { _ in try RawConnection(port: port) }
        for connection in slow { connection.send("GET /api/status HTTP/1.1\r\nHost: x\r\n") }
        let client = APIDaemonTests.Client(base: "http://127.0.0.1:\(port)", token: key)
        var latencies: [Double] = []
        for round in 0..<20 {
            // Slowloris: one more header byte from each slow client, now and then.
            if round % 4 == 0 { for connection in slow { connection.send("X") } }
            let started = ContinuousClock.now
            let (status, _) = try await client.send("GET", round % 2 == 0 ? "/api/status" : "/api/jobs")
            let elapsed = ContinuousClock.now - started
            latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            #expect(status == 200)
            try await Task.sleep(for: .milliseconds(100))
        }
        let worst = latencies.max() ?? -1
        FaultPlan.report("http-idle-slowloris", [
            "idle": "\(idle.count)", "slowloris": "\(slow.count)", "requests": "\(latencies.count)",
            "worst_ms": String(format: "%.1f", worst), "median_ms": String(format: "%.1f", latencies.sorted()[latencies.count / 2]),
        ])
        #expect(worst <= 100, "latencies: \(latencies)")
        api.signal(SIGTERM)
        #expect(try await api.wait(timeout: .seconds(30)) == 0)
    }

    @Test func oversizedHeadsAndBodiesAreRefusedWithTheirStatus() async throws {
        let (api, port, key) = try await Self.startAPI()
        let bigHeader = try RawConnection(port: port)
        bigHeader.send("GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 40_000))\r\n\r\n")
        let manyHeaders = try RawConnection(port: port)
        manyHeaders.send("GET /api/status HTTP/1.1\r\nHost: x\r\n" + (0..<200).map { "X-\($0): y\r\n" }.joined() + "\r\n")
        let bigBody = try RawConnection(port: port)
        bigBody.send("POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nContent-Length: 5000000\r\n\r\n")
        let bigChunked = try RawConnection(port: port)
        bigChunked.send("POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nTransfer-Encoding: chunked\r\n\r\n")
        // Exactly one byte over the 1 MiB limit, and nothing after it.
        for _ in 0..<2 { bigChunked.send("80000\r\n" + String(repeating: "z", count: 0x80000) + "\r\n") }
        bigChunked.send("1\r\nz\r\n")
        let statuses = [bigHeader.readStatus(), manyHeaders.readStatus(), bigBody.readStatus(), bigChunked.readStatus()]
        FaultPlan.report("http-oversized", ["statuses": "\(statuses.map { $0.map(String.init) ?? "none" })"])
        #expect(statuses == [431, 431, 413, 413])
        // And the server still answers.
        let client = APIDaemonTests.Client(base: "http://127.0.0.1:\(port)", token: key)
        #expect(try await client.send("GET", "/api/status").status == 200)
        api.signal(SIGTERM)
        #expect(try await api.wait(timeout: .seconds(30)) == 0)
    }
}
}
