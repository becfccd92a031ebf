import Foundation
import Logging
import Synchronization
import Testing

@testable import SchedulerCore
import TestSupport

/// Every test that talks to the shared test broker, one at a time: some of them stop and
/// start it, which would break any other test using it at that moment.
@Suite(.serialized) struct BrokerTests {}

/// The buses the conformance suite runs against; `rabbitmq` is the private broker of
/// scripts/test (`SIMPLE_SCHEDULER_TEST_AMQP_URL`).
enum BusAdapter: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case rabbitmq

    var testDescription: String { rawValue }

    func make() async throws -> any MessageBus {
        switch self {
        case .memory:
            return InMemoryMessageBus()
        case .rabbitmq:
            let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL")
            let bus = try RabbitMQBus(connectionString: url, logger: Logger(label: "test.bus"))
            try await bus.waitUntilConnected(timeout: .seconds(20))
            return bus
        }
    }
}

func close(_ bus: any MessageBus) async {
    if let bus = bus as? RabbitMQBus { await bus.shutdown() }
}

/// A unique job name per test: tests share one broker.
func uniqueJob(_ prefix: String = "bus") -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

