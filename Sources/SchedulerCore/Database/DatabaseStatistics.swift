import Synchronization

/// Counters an adapter keeps of its own traffic, for tests and benchmarks
/// ("round trips per fire" is read from here, not estimated).
public final class DatabaseStatistics: Sendable {
    private let roundTripCount = Atomic<Int>(0)
    private let writeCount = Atomic<Int>(0)

    public init() {}

    /// Requests sent to the server (MongoDB) or transactions run (SQLite, in-memory).
    public var roundTrips: Int { roundTripCount.load(ordering: .relaxed) }
    /// Documents or rows written.
    public var writes: Int { writeCount.load(ordering: .relaxed) }

    /// Counts `count` round trips.
    public func recordRoundTrip(_ count: Int = 1) {
        roundTripCount.add(count, ordering: .relaxed)
    }

    /// Counts `count` written documents or rows.
    public func recordWrites(_ count: Int) {
        writeCount.add(count, ordering: .relaxed)
    }
}
