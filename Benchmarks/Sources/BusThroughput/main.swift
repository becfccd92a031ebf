// Publish and consume throughput of the RabbitMQ bus, against a plain librabbitmq loop
// measured in the same run on the same broker. Prints JSON lines; the ratio is what counts.
//
//   swift run -c release --package-path Benchmarks BusThroughput AMQP_URL [MESSAGES] [BATCH]
//   ... BusThroughput AMQP_URL RATE SECONDS confirm-latency
//     publish → confirm latency at RATE persistent messages per second, one message at a time
//     (as a sustained load publishes), for our bus and for a plain librabbitmq loop in confirm
//     mode, interleaved: the plain loop's p99 is the broker's floor for the lateness metric.
import CRabbitMQBench
import Foundation
import Logging
import SchedulerCore

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: BusThroughput AMQP_URL [MESSAGES] [BATCH]\n".utf8))
    exit(2)
}
let url = arguments[1]
let count = arguments.count > 2 ? Int(arguments[2]) ?? 20_000 : 20_000
let batchSize = arguments.count > 3 ? Int(arguments[3]) ?? 500 : 500
let body = ActionMessage(jobName: "bench", runID: .generate(), action: .run, attempt: 1).body

func report(_ metric: String, _ value: Double, unit: String, extra: String = "") {
    print(#"{"metric":"\#(metric)","unit":"\#(unit)","value":\#(String(format: "%.0f", value)),"n":\#(count)\#(extra)}"#)
}

func seconds(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// A plain librabbitmq connection to `url` with channel 1 open; the caller destroys it.
func plainConnection() throws -> amqp_connection_state_t {
    let parsed = try AMQPURL(url)
    guard let conn = amqp_new_connection(), let socket = amqp_tcp_socket_new(conn) else { throw BenchError.setup }
    guard amqp_socket_open(socket, parsed.host, Int32(parsed.port)) == 0,
        crabbitmq_login_plain(conn, parsed.vhost, 0, 131072, 0, parsed.user, parsed.password).reply_type
            == AMQP_RESPONSE_NORMAL
    else {
        amqp_destroy_connection(conn)
        throw BenchError.setup
    }
    amqp_channel_open(conn, 1)
    return conn
}

/// The floor: amqp_basic_publish in a loop, persistent, no confirms, one connection.
func plainPublishLoop(exchange: String) throws -> Double {
    let conn = try plainConnection()
    defer { amqp_destroy_connection(conn) }
    let exchangeBytes = strdup(exchange)!
    let keyBytes = strdup("action")!
    let contentType = strdup("application/json")!
    defer { free(exchangeBytes); free(keyBytes); free(contentType) }
    var properties = amqp_basic_properties_t()
    properties._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG)
    properties.content_type = amqp_cstring_bytes(contentType)
    properties.delivery_mode = 2
    let start = ContinuousClock.now
    try body.withUnsafeBytes { raw in
        let message = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
        for _ in 0..<count {
            guard amqp_basic_publish(
                conn, 1, amqp_cstring_bytes(exchangeBytes), amqp_cstring_bytes(keyBytes), 0, 0, &properties, message)
                == 0
            else { throw BenchError.publish }
        }
    }
    // A round trip after the loop so every message has reached the broker before the clock stops.
    amqp_basic_qos(conn, 1, 0, 1, 0)
    let elapsed = seconds(start)
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS)
    return Double(count) / elapsed
}

enum BenchError: Error { case setup, publish, refused }

/// Percentiles of latencies in milliseconds.
func percentiles(_ values: [Double]) -> (p50: Double, p99: Double, max: Double) {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return (-1, -1, -1) }
    let at = { (p: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    return (at(0.5), at(0.99), sorted.last!)
}

/// The floor for confirm latency: a plain librabbitmq loop in confirm mode publishing one
/// persistent message every 1/rate s round-robin over `exchanges`, reading the broker's acks
/// between publishes. Returns each message's publish → confirm latency (ms).
func plainConfirmLatencies(exchanges: [String], rate: Int, seconds total: Int) throws -> [Double] {
    let conn = try plainConnection()
    defer { amqp_destroy_connection(conn) }
    amqp_confirm_select(conn, 1)
    guard amqp_get_rpc_reply(conn).reply_type == AMQP_RESPONSE_NORMAL else { throw BenchError.setup }
    let exchangeBytes = exchanges.map { strdup($0)! }
    let keyBytes = strdup("action")!
    let contentType = strdup("application/json")!
    defer { exchangeBytes.forEach { free($0) }; free(keyBytes); free(contentType) }
    var properties = amqp_basic_properties_t()
    properties._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG)
    properties.content_type = amqp_cstring_bytes(contentType)
    properties.delivery_mode = 2
    let total = rate * total
    var sentAt: [ContinuousClock.Instant] = []
    sentAt.reserveCapacity(total)
    var latencies: [Double] = []
    var confirmedUpTo: UInt64 = 0
    let start = ContinuousClock.now
    let period = Duration.nanoseconds(1_000_000_000 / rate)

    /// Reads frames until `deadline`; records the latency of every newly acknowledged tag.
    func readAcks(until deadline: ContinuousClock.Instant) {
        while true {
            let left = deadline - .now
            guard left > .zero else { return }
            var timeout = timeval(tv_sec: 0, tv_usec: Int(left.components.attoseconds / 1_000_000_000_000))
            var frame = amqp_frame_t()
            guard amqp_simple_wait_frame_noblock(conn, &frame, &timeout) == AMQP_STATUS_OK.rawValue else { return }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), frame.payload.method.id == AMQP_BASIC_ACK_METHOD else {
                continue
            }
            let ack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            let now = ContinuousClock.now
            let upper = min(ack.delivery_tag, UInt64(sentAt.count))
            let lower = ack.multiple != 0 ? confirmedUpTo + 1 : ack.delivery_tag
            if lower <= upper {
                for tag in lower...upper {
                    let elapsed = now - sentAt[Int(tag) - 1]
                    latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                }
            }
            confirmedUpTo = max(confirmedUpTo, upper)
        }
    }

    try body.withUnsafeBytes { raw in
        let message = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
        for index in 0..<total {
            readAcks(until: start + period * index)
            sentAt.append(.now)
            guard amqp_basic_publish(
                conn, 1, amqp_cstring_bytes(exchangeBytes[index % exchangeBytes.count]), amqp_cstring_bytes(keyBytes),
                0, 0, &properties, message) == 0
            else { throw BenchError.publish }
        }
    }
    let drainDeadline = ContinuousClock.now + .seconds(10)
    while confirmedUpTo < UInt64(total), ContinuousClock.now < drainDeadline { readAcks(until: .now + .milliseconds(100)) }
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS)
    return latencies
}

let logger = Logger(label: "bench")
let bus = try RabbitMQBus(connectionString: url, logger: logger)
try await bus.waitUntilConnected(timeout: .seconds(30))

if arguments.count > 4, arguments[4] == "confirm-latency" {
    let rate = count
    let seconds = batchSize
    // As many queues as the sustained load has jobs: the broker persists and syncs per queue.
    let exchanges = (0..<rate).map { "lat-\(UUID().uuidString.prefix(6).lowercased())-\($0)" }
    for job in exchanges { try await bus.declareTopology(jobName: job) }
    let messages = exchanges.map { OutgoingMessage(exchange: Topology.exchange($0), routingKey: "action", body: body) }

    /// Our bus: one publish per message, each awaited by its own task, as the fire loop's slots are.
    func oursLatencies() async throws -> [Double] {
        let start = ContinuousClock.now
        let period = Duration.nanoseconds(1_000_000_000 / rate)
        return try await withThrowingTaskGroup(of: Double.self) { group in
            for index in 0..<(rate * seconds) {
                try await Task.sleep(until: start + period * index, clock: .continuous)
                group.addTask {
                    let sent = ContinuousClock.now
                    guard try await bus.publish([messages[index % messages.count]]) == [true] else { throw BenchError.refused }
                    let elapsed = ContinuousClock.now - sent
                    return Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
                }
            }
            var all: [Double] = []
            for try await latency in group { all.append(latency) }
            return all
        }
    }
    // A discarded round first: the broker is still settling a thousand new queues (its first
    // seconds after the declarations had a p99 of 600 ms for whichever publisher came first).
    let warmUp = percentiles(try await oursLatencies())
    var rounds: [(ours: [Double], plain: [Double])] = []
    for _ in 0..<3 {
        let ours = try await oursLatencies()
        let plain = try plainConfirmLatencies(exchanges: exchanges.map(Topology.exchange), rate: rate, seconds: seconds)
        rounds.append((ours, plain))
    }
    let ours = percentiles(rounds.flatMap(\.ours))
    let plain = percentiles(rounds.flatMap(\.plain))
    print(
        #"{"metric":"confirm_latency_p99","unit":"ms","rate":\#(rate),"value":\#(String(format: "%.1f", ours.p99)),"#
            + #""p50":\#(String(format: "%.1f", ours.p50)),"max":\#(String(format: "%.1f", ours.max)),"#
            + #""reference":"plain librabbitmq confirm loop","reference_value":\#(String(format: "%.1f", plain.p99)),"#
            + #""reference_p50":\#(String(format: "%.1f", plain.p50)),"reference_max":\#(String(format: "%.1f", plain.max)),"#
            + #""ratio":\#(String(format: "%.2f", ours.p99 / plain.p99)),"n":\#(rounds.flatMap(\.ours).count),"#
            + #""warm_up_p99":\#(String(format: "%.1f", warmUp.p99)),"rounds_p99":\#(rounds.map { [percentiles($0.ours).p99, percentiles($0.plain).p99] })}"#)
    await bus.shutdown()
    exit(0)
}

// Fan-out: one persistent message to each of N jobs' exchanges (a burst of N due jobs), against
// the single-queue figure above; the broker persists into N queues instead of one.
if arguments.count > 4, arguments[4] == "fanout" {
    let jobs = (0..<count).map { "fan-\(UUID().uuidString.prefix(6).lowercased())-\($0)" }
    let declareStart = ContinuousClock.now
    for job in jobs { try await bus.declareTopology(jobName: job) }
    report("declare_topology", Double(count) / seconds(declareStart), unit: "jobs/s")
    let messages = jobs.map { OutgoingMessage(exchange: Topology.exchange($0), routingKey: "action", body: body) }
    let start = ContinuousClock.now
    var sent = 0
    while sent < count {
        let size = min(batchSize, count - sent)
        guard try await bus.publish(Array(messages[sent..<sent + size])).allSatisfy({ $0 }) else { throw BenchError.refused }
        sent += size
    }
    report("publish_confirmed_fanout", Double(count) / seconds(start), unit: "msg/s", extra: #","batch":\#(batchSize)"#)
    await bus.shutdown()
    exit(0)
}
let job = "bench-\(UUID().uuidString.prefix(8).lowercased())"
try await bus.declareTopology(jobName: job)
let exchange = Topology.exchange(job)
let message = OutgoingMessage(exchange: exchange, routingKey: "action", body: body)

// Interleave the two publishers (A B A B A B) so drift on a noisy machine hits both.
var ours: [Double] = []
var plain: [Double] = []
for _ in 0..<3 {
    let start = ContinuousClock.now
    var sent = 0
    while sent < count {
        let size = min(batchSize, count - sent)
        let outcomes = try await bus.publish(Array(repeating: message, count: size))
        guard outcomes.allSatisfy({ $0 }) else { throw BenchError.refused }
        sent += size
    }
    ours.append(Double(count) / seconds(start))
    plain.append(try plainPublishLoop(exchange: exchange))
}
let oursMedian = ours.sorted()[1]
let plainMedian = plain.sorted()[1]
report("publish_confirmed_batched", oursMedian, unit: "msg/s", extra: #","batch":\#(batchSize)"#)
report("publish_plain_librabbitmq_no_confirms", plainMedian, unit: "msg/s")
print(#"{"metric":"publish_ratio_ours_over_plain","unit":"ratio","value":\#(String(format: "%.3f", oursMedian / plainMedian))}"#)

// Consume and ack everything published above (6 × count messages), prefetch 500.
let total = 6 * count
let consumer = try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 500)
let start = ContinuousClock.now
var consumed = 0
for await delivery in consumer.deliveries {
    await delivery.ack()
    consumed += 1
    if consumed == total { break }
}
report("consume_and_ack", Double(total) / seconds(start), unit: "msg/s", extra: #","prefetch":500"#)
await consumer.cancel()
await bus.shutdown()
