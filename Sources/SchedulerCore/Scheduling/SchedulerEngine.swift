import Foundation
import Logging

/// One scheduler instance: holds a lease, claims jobs, fires their slots exactly once, follows
/// their runs to a final status, and publishes what the runs call for (SPEC §3, §5, §6).
///
/// An actor: every loop below runs as a child task of `run()` and meets the others only here.
/// The database and bus adapters do their blocking work on threads of their own.
public actor SchedulerEngine {
    /// The settings the engine needs (a subset of `SchedulerConfiguration`, in milliseconds).
    public struct Settings: Sendable {
        public var maxJobs: Int?
        public var heartbeatInterval: Int
        public var heartbeatTimeout: Int
        public var cleanupInterval: Int
        public var cacheRefreshInterval: Int
        /// How often the jobs change marker and the queue of held runs are checked.
        public var changePollInterval: Int = 250
        /// How often unconfirmed actions are published again.
        public var outboxInterval: Int = 1000
        /// A cancel that no worker answers becomes `cancelled` after this when the job has no heartbeat timeout.
        public var defaultCancelTimeout: Int = 300_000

        public init(
            maxJobs: Int? = nil, heartbeatInterval: Int = 1000, heartbeatTimeout: Int = 30_000,
            cleanupInterval: Int = 60_000, cacheRefreshInterval: Int = 300_000
        ) {
            self.maxJobs = maxJobs
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatTimeout = heartbeatTimeout
            self.cleanupInterval = cleanupInterval
            self.cacheRefreshInterval = cacheRefreshInterval
        }

        public init(_ configuration: SchedulerConfiguration) {
            self.init(
                maxJobs: configuration.maxJobs, heartbeatInterval: configuration.heartbeatInterval,
                heartbeatTimeout: configuration.heartbeatTimeout, cleanupInterval: configuration.cleanupInterval,
                cacheRefreshInterval: configuration.cacheRefreshInterval)
        }
    }

    let database: any Database
    let bus: any MessageBus
    let clock: any WallClock
    let settings: Settings
    let logger: Logger
    /// This instance's manager id (ObjectId form).
    public nonisolated let managerID: String
    let hostname: String

    /// The jobs this instance holds the lock of, as last read, when each is next due, and which
    /// jobs' queues it consumes (all yielding to `inboundSink`) and has declared.
    var jobs: JobTable
    /// Every subscription's deliveries, read by one task: a task and a stream per queue would
    /// cost kilobytes per held job.
    nonisolated let inboundStream: AsyncStream<Delivery>
    nonisolated let inboundSink: DeliverySink
    /// Wakes the inbox flusher; at most one wake-up waits.
    nonisolated let inboxWakeups: AsyncStream<Void>
    nonisolated let inboxWake: AsyncStream<Void>.Continuation
    /// When the last heartbeat renewal that succeeded was sent, on this process's monotonic clock.
    var leaseRenewedAt: ContinuousClock.Instant?
    var lastChangeMarker: Int64?
    /// Jobs held when freed memory was last handed back to the system.
    var heldAtLastRelease = 0
    var stopping = false
    var claiming = false
    /// A re-read of the held jobs is under way, and one more was asked for meanwhile: sweeps
    /// share the job table's marks, so they run one at a time.
    var refreshing = false
    var refreshAgain = false
    var inbox: [Inbound] = []
    /// Runs whose action is being published now, so the outbox does not publish them twice.
    var publishing: Set<RunID> = []
    /// Publishes the fire loop started and did not wait for.
    var publishesInFlight = 0
    /// Runs handed to `runBackgroundPublishes`, already taken for publishing.
    nonisolated let backgroundPublishRequests: AsyncStream<[Run]>
    nonisolated let backgroundPublishRequest: AsyncStream<[Run]>.Continuation
    /// Actions this instance marked published, by the mark's sequence number: an outbox read
    /// that started before a mark may still return its run as unpublished.
    var marked: [PublishedAction: Int] = [:]
    var markSequence = 0
    let monotonic = ContinuousClock()

    public init(
        database: any Database, bus: any MessageBus, clock: any WallClock = SystemClock(), settings: Settings,
        logger: Logger, hostname: String = ProcessInfo.processInfo.hostName
    ) {
        self.database = database
        self.bus = bus
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.hostname = hostname
        self.managerID = RunID.generate().hex
        jobs = JobTable(managerID: managerID)
        (inboundStream, inboundSink) = AsyncStream<Delivery>.makeStream()
        (inboxWakeups, inboxWake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        (backgroundPublishRequests, backgroundPublishRequest) = AsyncStream<[Run]>.makeStream()
    }

    /// Names of the jobs this instance holds now.
    public var heldJobs: [String] { jobs.heldNames.sorted() }
    /// How many jobs this instance holds (without listing them).
    public var heldJobCount: Int { jobs.heldCount }
    /// How many jobs' status and heartbeat queues this instance consumes (their topology is declared).
    public var consumedJobCount: Int { jobs.subscribedCount }

    /// Runs until cancelled (graceful shutdown), then releases every lock at once.
    public func run() async throws {
        // Through a database outage: an unreachable database is waited for, not a reason to exit.
        while true {
            do {
                try await database.registerManager(id: managerID, hostname: hostname)
                break
            } catch let error as DatabaseError where error.isUnavailable {
                logger.failure("cannot register this instance yet", error)
                try await clock.sleep(until: clock.now().adding(milliseconds: Int64(settings.heartbeatInterval)))
            }
        }
        leaseRenewedAt = monotonic.now
        logger.info("scheduler instance started", metadata: ["manager.id": "\(managerID)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.every(self.settings.heartbeatInterval) { await $0.renewLease() } }
            group.addTask { await self.every(self.settings.heartbeatInterval) { await $0.claim() } }
            group.addTask { await self.fireLoop() }
            group.addTask { await self.runBackgroundPublishes() }
            group.addTask { await self.every(self.settings.changePollInterval) { await $0.pollChanges() } }
            group.addTask { await self.every(self.settings.outboxInterval) { await $0.publishOutbox() } }
            group.addTask { await self.every(self.settings.cleanupInterval) { await $0.cleanUpRuns() } }
            group.addTask { await self.every(self.settings.cacheRefreshInterval) { await $0.refreshJobs() } }
            group.addTask { for await delivery in self.inboundStream { await self.receive(delivery) } }
            group.addTask { for await _ in self.inboxWakeups { await self.flushInbox() } }
            await group.waitForAll()
        }
        await shutDown()
    }

    /// Calls `body` now and then every `interval` ms until cancelled.
    private func every(_ interval: Int, _ body: @escaping @Sendable (SchedulerEngine) async -> Void) async {
        while !Task.isCancelled {
            await body(self)
            do { try await clock.sleep(until: clock.now().adding(milliseconds: Int64(interval))) } catch { return }
        }
    }

    private func shutDown() async {
        stopping = true
        // Locks first, so a peer can claim the jobs at once (cancelling thousands of consumers
        // takes a while); a delivery that reaches this instance meanwhile is not applied, and
        // goes back to its queue when its consumer is cancelled.
        do {
            let released = try await database.releaseJobs(of: managerID, names: nil)
            try await database.removeManager(id: managerID)
            logger.info("released locks on shutdown", metadata: ["jobs.count": "\(released)"])
        } catch {
            logger.failure("could not release locks on shutdown", error)
        }
        for name in jobs.subscribedNames { await stopConsuming(name) }
        for name in jobs.heldNames { jobs[name] = nil }
    }

    /// Whether this instance may fire: its last renewal is younger than the lease timeout,
    /// measured on its own monotonic clock from when the renewal was sent. The database fences
    /// every fire as well; this check stops a stale instance before it even tries.
    var leaseIsLive: Bool {
        guard let renewed = leaseRenewedAt, !stopping else { return false }
        return monotonic.now - renewed < .milliseconds(settings.heartbeatTimeout)
    }
}
