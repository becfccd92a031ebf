import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// One suite, both buses: the semantics the scheduler relies on.
extension BrokerTests {
@Suite("Message bus conformance")
struct MessageBusConformanceTests {
    let runID = try! RunID(validating: "6799b53b33fcc6482f29c96f")

    @Test(arguments: BusAdapter.allCases)
    func actionsArriveByteExactPersistentAndRoutedByKey(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        try await bus.declareTopology(jobName: job)  // idempotent
        let actions = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 10))
        let statuses = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "status"), prefetch: 10))

        let action = ActionMessage(jobName: job, runID: runID, action: .run, attempt: 1)
        let status = Array(#"{"jobName":"\#(job)","runId":"6799b53b33fcc6482f29c96f","status":"running"}"#.utf8)
        let outcomes = try await bus.publish([
            OutgoingMessage(action: action),
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: status),
        ])
        #expect(outcomes == [true, true])

        let delivered = try await actions.next()
        #expect(
            String(decoding: delivered.body, as: UTF8.self)
                == #"{"jobName":"\#(job)","runId":"6799b53b33fcc6482f29c96f","action":"run","attempt":1}"#)
        #expect(delivered.persistent)
        #expect(delivered.contentType == "application/json")
        #expect(delivered.routingKey == "action" && delivered.exchange == Topology.exchange(job))
        #expect(!delivered.redelivered)
        await delivered.ack()
        let statusDelivery = try await statuses.next()
        #expect(statusDelivery.body == status)
        await statusDelivery.ack()
        try await actions.expectNothing(within: .milliseconds(200))
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func aBatchIsConfirmedAndDeliveredInOrder(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        let batch = (1...200).map {
            OutgoingMessage(action: ActionMessage(jobName: job, runID: .generate(), action: .run, attempt: $0))
        }
        #expect(try await bus.publish(batch) == Array(repeating: true, count: 200))
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "action"), prefetch: 50))
        for expected in batch {
            let delivery = try await reader.next()
            #expect(delivery.body == expected.body)
            await delivery.ack()
        }
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func nackWithRequeueRedeliversAndAckForgets(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "status"), prefetch: 1))
        let body = Array(#"{"jobName":"\#(job)","runId":"6799b53b33fcc6482f29c96f","status":"completed"}"#.utf8)
        _ = try await bus.publish([OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: body)])

        let first = try await reader.next()
        #expect(!first.redelivered)
        await first.nack(requeue: true)
        let again = try await reader.next()
        #expect(again.redelivered)
        #expect(again.body == body)
        await again.ack()

        let sentinel = Array("sentinel".utf8)
        _ = try await bus.publish([
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: sentinel)
        ])
        #expect(try await reader.next().body == sentinel, "the acked message came back")
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func aConsumerThatAcksAMalformedMessageGetsTheNextValidOne(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        let exchange = Topology.exchange(job)
        let valid = Array(#"{"jobName":"\#(job)","runId":"6799b53b33fcc6482f29c96f","status":"running"}"#.utf8)
        _ = try await bus.publish([
            OutgoingMessage(exchange: exchange, routingKey: "status", body: Array("{not json".utf8)),
            OutgoingMessage(exchange: exchange, routingKey: "status", body: valid),
        ])
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "status"), prefetch: 1))
        let poison = try await reader.next()
        #expect(throws: MessageError.self) { try StatusMessage(parsing: poison.body) }
        await poison.ack()
        let next = try await reader.next()
        #expect(try StatusMessage(parsing: next.body).status == .running)
        await next.ack()
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func prefetchBoundsUnacknowledgedDeliveries(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        let messages = (0..<5).map {
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "heartbeat", body: Array("\($0)".utf8))
        }
        _ = try await bus.publish(messages)
        // Another prefetch on the same connection first: the second consumer still gets its own.
        let other = try await bus.consume(queue: Topology.queue(job, "status"), prefetch: 1)
        let reader = DeliveryReader(try await bus.consume(queue: Topology.queue(job, "heartbeat"), prefetch: 2))
        let first = try await reader.next()
        let second = try await reader.next()
        try await reader.expectNothing(within: .milliseconds(300))
        await first.ack()
        let third = try await reader.next()
        #expect([first, second, third].map { String(decoding: $0.body, as: UTF8.self) } == ["0", "1", "2"])
        await second.ack()
        await third.ack()
        await other.cancel()
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func competingConsumersShareAQueueAndCancelReturnsUnacked(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        let queue = Topology.queue(job, "action")
        let one = try await bus.consume(queue: queue, prefetch: 1)
        let two = try await bus.consume(queue: queue, prefetch: 1)
        let (readerOne, readerTwo) = (DeliveryReader(one), DeliveryReader(two))
        _ = try await bus.publish(
            (0..<2).map { OutgoingMessage(exchange: Topology.exchange(job), routingKey: "action", body: [UInt8($0)]) })
        let a = try await readerOne.next()
        let b = try await readerTwo.next()
        #expect(Set([a.body, b.body]) == [[0], [1]])
        await a.ack()
        await two.cancel()  // b was not acked: it goes back to the queue
        let back = try await readerOne.next()
        #expect(back.body == b.body && back.redelivered)
        await back.ack()
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func subscriptionsShareOneSinkAndEachDeliverySaysItsQueue(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        let (stream, sink) = AsyncStream<Delivery>.makeStream()
        let reader = DeliveryReader(Consumer(queue: "shared", deliveries: stream) {})
        let status = try await bus.subscribe(queue: Topology.queue(job, "status"), prefetch: 5, to: sink)
        let heartbeat = try await bus.subscribe(queue: Topology.queue(job, "heartbeat"), prefetch: 5, to: sink)
        _ = try await bus.publish([
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: [1]),
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "heartbeat", body: [2]),
        ])
        var byQueue: [String: Delivery] = [:]
        for _ in 0..<2 {
            let delivery = try await reader.next()
            byQueue[delivery.queue] = delivery
        }
        #expect(byQueue[status.queue]?.body == [1] && byQueue[heartbeat.queue]?.body == [2])
        await byQueue[heartbeat.queue]?.ack()

        // Unsubscribing one queue returns its unacknowledged delivery and leaves the sink open.
        await bus.unsubscribe(status)
        _ = try await bus.publish([
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "status", body: [3]),
            OutgoingMessage(exchange: Topology.exchange(job), routingKey: "heartbeat", body: [4]),
        ])
        let later = try await reader.next()
        #expect(later.queue == heartbeat.queue && later.body == [4])
        await later.ack()
        try await reader.expectNothing(within: .milliseconds(300))
        let again = DeliveryReader(try await bus.consume(queue: status.queue, prefetch: 5))
        let first = try await again.next()
        #expect(first.body == [1] && first.redelivered)
        await first.ack()
        #expect(try await again.next().body == [3])
        await close(bus)
    }

    @Test(arguments: BusAdapter.allCases)
    func aPublishToAMissingExchangeIsRefusedAndLaterOnesWork(_ adapter: BusAdapter) async throws {
        let bus = try await adapter.make()
        let job = uniqueJob()
        try await bus.declareTopology(jobName: job)
        #expect(
            try await bus.publish([OutgoingMessage(exchange: "scheduler.job.never-declared-\(job)", routingKey: "action",
                body: [1])]) == [false])
        #expect(try await bus.publish([OutgoingMessage(exchange: Topology.exchange(job), routingKey: "action", body: [2])])
            == [true])
        await close(bus)
    }
}
}
