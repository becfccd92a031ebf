import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// What only a real broker can show: the topology as the broker sees it, and survival of a
/// broker restart. These share one broker and restart it, so they run one at a time.
extension BrokerTests {
@Suite("RabbitMQ against the real broker")
struct RabbitMQBusTests {
    private func brokerControl(_ arguments: String...) async throws -> String {
        let control = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_BROKER_CTL")
        let result = try await runProgram(control, arguments)
        guard result.status == 0 else { throw TimedOut(what: "test-broker \(arguments) (exit \(result.status))") }
        return result.output
    }

    @Test func topologyAsTheBrokerSeesIt() async throws {
        let bus = try await BusAdapter.rabbitmq.make()
        let job = uniqueJob("topo")
        try await bus.declareTopology(jobName: job)
        let exchanges = try await brokerControl("ctl", "list_exchanges", "name", "type", "durable", "auto_delete")
        #expect(exchanges.contains("scheduler.job.\(job)\ttopic\ttrue\tfalse"), "\(exchanges)")
        let queues = try await brokerControl("ctl", "list_queues", "name", "durable", "auto_delete", "exclusive")
        for key in ["action", "status", "heartbeat"] {
            #expect(queues.contains("scheduler.job.\(job).\(key)\ttrue\tfalse\tfalse"), "\(queues)")
        }
        let bindings = try await brokerControl(
            "ctl", "list_bindings", "source_name", "destination_name", "destination_kind", "routing_key")
        for key in ["action", "status", "heartbeat"] {
            #expect(bindings.contains("scheduler.job.\(job)\tscheduler.job.\(job).\(key)\tqueue\t\(key)"), "\(bindings)")
        }
        await close(bus)
    }

    @Test func vhostSlashForms() throws {
        #expect(try AMQPURL("amqp://u:p@h:5672/").vhost == "/")
        #expect(try AMQPURL("amqp://u:p@h:5672").vhost == "/")
        #expect(try AMQPURL("amqp://u:p@h:5672/%2f").vhost == "/")
        #expect(try AMQPURL("amqp://u:p@h:5672/%2Fprod").vhost == "/prod")
        #expect(try AMQPURL("amqp://u:p@h:5672/staging").vhost == "staging")
        let tls = try AMQPURL("amqps://us%40er:p%3Ass@[::1]/?heartbeat=30")
        #expect(tls.tls && tls.port == 5671 && tls.host == "::1" && tls.heartbeat == 30)
        #expect(tls.user == "us@er" && tls.password == "p:ss")
        #expect(throws: MessageBusError.self) { try AMQPURL("http://h/") }
        #expect(throws: MessageBusError.self) { try AMQPURL("amqp://h:99999/") }
        #expect(!tls.description.contains("p:ss"))
    }

    @Test func theTrailingSlashURLConnectsToVhostSlash() async throws {
        let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL")
        for form in [url, String(url.dropLast())] where form.hasPrefix("amqp://") {
            let bus = try RabbitMQBus(connectionString: form, logger: Logger(label: "test"))
            try await bus.waitUntilConnected(timeout: .seconds(20))
            await bus.shutdown()
        }
    }

    @Test func aTopologyTheBrokerRefusesIsReportedAndTheConnectionCarriesOn() async throws {
        let bus = try await BusAdapter.rabbitmq.make()
        // A delivery held unacknowledged across the refusal: a reconnect would redeliver it.
        let before = uniqueJob("before-clash")
        try await bus.declareTopology(jobName: before)
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(before, "status"), prefetch: 5))
        _ = try await bus.publish([OutgoingMessage(exchange: Topology.exchange(before), routingKey: "status", body: [1])])
        let held = try await reader.next()

        // Someone declared the job's exchange with another type: the broker refuses ours (the
        // declarations go out without waiting, and the last one's reply carries the refusal).
        let job = uniqueJob("clash")
        let other = try AMQPConnection(url: AMQPURL(try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL")))
        try other.openChannel(1)
        try other.declareExchange(1, name: Topology.exchange(job), type: "direct")
        other.close()
        do {
            try await bus.declareTopology(jobName: job)
            Issue.record("a clashing exchange was declared")
        } catch {
            #expect("\(error)".contains("inequivalent"), "\(error)")
        }
        // In a batch (pipelined, 200 jobs a round trip) the refused job fails alone.
        let batch = (0..<450).map { uniqueJob("batch\($0)") }
        let failures = await bus.declareTopologies(jobNames: Array(batch[..<120]) + [job] + Array(batch[120...]))
        #expect(Array(failures.keys) == [job], "\(failures)")
        #expect("\(failures[job].map { "\($0)" } ?? "")".contains("inequivalent"))
        let confirmed = try await bus.publish(batch.map {
            OutgoingMessage(exchange: Topology.exchange($0), routingKey: "action", body: Array($0.utf8))
        })
        #expect(confirmed == Array(repeating: true, count: batch.count), "an exchange of the batch is missing")
        for name in [batch[0], batch[119], batch[120], batch[449]] {
            let queue = DeliveryReader(try await bus.consume(queue: Topology.queue(name, "action"), prefetch: 1))
            let message = try await queue.next()
            #expect(message.body == Array(name.utf8))
            await message.ack()
        }

        // The same connection declares, publishes and settles on.
        let after = uniqueJob("after-clash")
        try await bus.declareTopology(jobName: after)
        let later = DeliveryReader(try await bus.consume(queue: Topology.queue(after, "action"), prefetch: 5))
        #expect(try await bus.publish([OutgoingMessage(exchange: Topology.exchange(after), routingKey: "action", body: [2])]) == [true])
        let delivery = try await later.next()
        #expect(delivery.body == [2] && !delivery.redelivered)
        await delivery.ack()
        await held.ack()
        try await reader.expectNothing(within: .milliseconds(500))
        await close(bus)
    }

    @Test func aBrokerRestartLosesNoConfirmedMessageAndTheConsumerResumes() async throws {
        let bus = try await BusAdapter.rabbitmq.make() as! RabbitMQBus
        let job = uniqueJob("restart")
        try await bus.declareTopology(jobName: job)
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 20))
        let exchange = Topology.exchange(job)
        func message(_ n: Int) -> OutgoingMessage {
            OutgoingMessage(exchange: exchange, routingKey: "action", body: Array("m\(n)".utf8))
        }

        // Before the stop: 0..<50 confirmed; the consumer takes a few and acks them.
        #expect(try await bus.publish((0..<50).map(message)) == Array(repeating: true, count: 50))
        var received: Set<String> = []
        for _ in 0..<10 {
            let delivery = try await reader.next()
            received.insert(String(decoding: delivery.body, as: UTF8.self))
            await delivery.ack()
        }

        _ = try await brokerControl("stop")
        // While the broker is down: publishes fail fast with a typed error.
        let down = ContinuousClock.now
        while bus.isConnected, ContinuousClock.now - down < .seconds(30) { try await Task.sleep(for: .milliseconds(50)) }
        let start = ContinuousClock.now
        await #expect { try await bus.publish([message(999)]) } throws: {
            ($0 as? MessageBusError)?.isUnavailable == true
        }
        #expect(ContinuousClock.now - start < .seconds(1), "a publish while disconnected must fail fast")
        _ = try await brokerControl("start")

        try await bus.waitUntilConnected(timeout: .seconds(60))
        #expect(try await bus.publish((50..<60).map(message)) == Array(repeating: true, count: 10))
        // Every confirmed message arrives (some acked ones may not have been; at least once).
        let expected = Set((0..<60).map { "m\($0)" })
        while !expected.isSubset(of: received) {
            let delivery = try await reader.next(within: .seconds(30))
            received.insert(String(decoding: delivery.body, as: UTF8.self))
            await delivery.ack()
        }
        #expect(!received.contains("m999"))
        await bus.shutdown()
    }
}
}

extension BrokerTests.RabbitMQBusTests {
    @Test func amqpsVerifiesTheBrokerAndCarriesMessages() async throws {
        let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQPS_URL")
        let bus = try RabbitMQBus(connectionString: url, logger: Logger(label: "test.tls"))
        try await bus.waitUntilConnected(timeout: .seconds(20))
        let job = uniqueJob("tls")
        try await bus.declareTopology(jobName: job)
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 1))
        #expect(try await bus.publish([OutgoingMessage(exchange: Topology.exchange(job), routingKey: "action",
            body: [42])]) == [true])
        let delivery = try await reader.next()
        #expect(delivery.body == [42])
        await delivery.ack()
        await bus.shutdown()

        // The same broker through a CA that did not sign its certificate: refused, never connected.
        let untrusted = url.replacingOccurrences(of: "cacertfile=", with: "cacertfile=/nonexistent-")
        let refused = try RabbitMQBus(connectionString: untrusted, logger: Logger(label: "test.tls"))
        await #expect(throws: MessageBusError.self) { try await refused.waitUntilConnected(timeout: .seconds(2)) }
        await refused.shutdown()
    }
}
