import ArgumentParser
import SchedulerCore

/// The job fields of SPEC §4 as flags (SPEC §9). Only the flags given are sent.
struct JobFieldOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "true or false.")
    var enabled: BooleanValue?

    @Option(name: [.customShort("r"), .long], help: "First fire, RFC 3339 (2025-01-29T10:00:00Z).")
    var nextRunAt: TimeValue?

    @Option(name: [.short, .long], help: "Repeat every this long: ms, or 30s, 5m, 1h…; 0: one-shot.")
    var interval: DurationValue?

    @Option(help: "Cron expression (5 or 6 fields, or @daily…), instead of --interval.")
    var cron: String?

    @Option(help: "IANA time zone of the cron expression (UTC).")
    var timezone: String?

    @Option(name: [.customShort("x"), .long], help: "Cancel runs that run longer than this; 0: off.")
    var runExecutionTimeout: DurationValue?

    @Option(name: [.customShort("s"), .long], help: "Cancel runs pending longer than this; 0: off.")
    var runStartTimeout: DurationValue?

    @Option(name: [.customShort("q"), .long], help: "Slots held while a run is active (0: skip them).")
    var maxQueueCount: Int?

    @Option(name: [.customShort("c"), .long], help: "true or false.")
    var allowConcurrentRuns: BooleanValue?

    @Option(name: [.customShort("t"), .long], help: "Re-dispatch a running run silent this long; 0: off.")
    var heartbeatTimeout: DurationValue?

    @Option(help: "Missed slots older than this are recorded as missed, not run; 0: no limit.")
    var catchUpWindow: DurationValue?

    @Option(help: "Retries of a failed run; 0: none.")
    var maxRetries: Int?

    @Option(help: "Delay before the first retry, doubled for each next one.")
    var retryDelay: DurationValue?

    /// The JSON fields of the flags given.
    var fields: [String: Any] {
        var fields: [String: Any] = [:]
        if let enabled { fields["enabled"] = enabled.value }
        if let nextRunAt { fields["nextRunAt"] = RFC3339.format(nextRunAt.time) }
        if let interval { fields["interval"] = interval.milliseconds }
        if let cron { fields["cron"] = cron }
        if let timezone { fields["timezone"] = timezone }
        if let runExecutionTimeout { fields["runExecutionTimeout"] = runExecutionTimeout.milliseconds }
        if let runStartTimeout { fields["runStartTimeout"] = runStartTimeout.milliseconds }
        if let maxQueueCount { fields["maxQueueCount"] = maxQueueCount }
        if let allowConcurrentRuns { fields["allowConcurrentRuns"] = allowConcurrentRuns.value }
        if let heartbeatTimeout { fields["heartbeatTimeout"] = heartbeatTimeout.milliseconds }
        if let catchUpWindow { fields["catchUpWindow"] = catchUpWindow.milliseconds }
        if let maxRetries { fields["maxRetries"] = maxRetries }
        if let retryDelay { fields["retryDelay"] = retryDelay.milliseconds }
        return fields
    }
}
