import Foundation
import Metrics

/// The metrics every daemon records (through swift-metrics; the daemons bootstrap a Prometheus
/// registry and serve it at `/metrics`). Names and labels are documented in docs/operations.md.
public enum SchedulerMetrics {
    /// A slot's fate: `fired`, `queued`, `skipped`, `missed`; and `retried` for a retry inserted.
    static func slot(job: String, fate: String) {
        Counter(label: "simple_scheduler_slots_total", dimensions: [("job", job), ("fate", fate)]).increment()
    }

    /// How late a slot fired, from its instant to its record.
    static func fireLateness(milliseconds: Int64) {
        Timer(label: "simple_scheduler_fire_lateness_seconds").recordMilliseconds(max(0, milliseconds))
    }

    /// Jobs this instance holds the lock of.
    static func jobsHeld(_ count: Int) {
        Gauge(label: "simple_scheduler_jobs_held").record(count)
    }

    /// From publishing a batch of actions to the broker's confirms.
    static func publishConfirm(_ duration: Duration, messages: Int) {
        Timer(label: "simple_scheduler_publish_confirm_seconds").recordNanoseconds(duration.nanoseconds)
        Counter(label: "simple_scheduler_actions_published_total").increment(by: messages)
    }

    /// A status or heartbeat message: `applied`, `dropped` or `requeued`.
    static func message(kind: String, outcome: String, count: Int = 1) {
        Counter(label: "simple_scheduler_messages_total", dimensions: [("kind", kind), ("outcome", outcome)])
            .increment(by: count)
    }

    /// One database call.
    static func databaseOperation(_ operation: String, _ duration: Duration, failed: Bool) {
        Timer(label: "simple_scheduler_database_operation_seconds", dimensions: [("operation", operation)])
            .recordNanoseconds(duration.nanoseconds)
        if failed {
            Counter(label: "simple_scheduler_database_errors_total", dimensions: [("operation", operation)]).increment()
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
