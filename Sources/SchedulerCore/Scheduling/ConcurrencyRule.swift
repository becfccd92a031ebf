/// SPEC §5's concurrency rule for one due run.
public enum ConcurrencyDecision: Hashable, Sendable {
    /// Dispatch now: `pending`, action published.
    case dispatch
    /// Hold as `queued` until the active run ends.
    case queue
    /// Record as `skipped`.
    case skip

    /// With concurrent runs allowed every run is dispatched; otherwise a run that comes due while
    /// one is active waits while fewer than `maxQueueCount` wait, else it is skipped.
    public static func decide(for job: Job, active: Int, queued: Int) -> ConcurrencyDecision {
        if job.allowConcurrentRuns || active == 0 { return .dispatch }
        return queued < job.maxQueueCount ? .queue : .skip
    }
}

/// SPEC §4's retries: a failed run is retried up to `maxRetries` times, after `retryDelay`
/// doubled per retry.
public enum RetryPolicy {
    /// The delay before retry number `retry` (1-based), capped at `Job.maximumDuration`.
    public static func delay(for job: Job, retry: Int) -> Int64 {
        let base = Int64(job.retryDelay)
        guard retry > 1 else { return base }
        let shift = min(retry - 1, 40)
        let (doubled, overflow) = base.multipliedReportingOverflow(by: 1 << Int64(shift))
        return overflow ? Int64(Job.maximumDuration) : min(doubled, Int64(Job.maximumDuration))
    }
}
