import Logging

/// The custodian's sweep (SPEC §6): every cleanup interval it unlocks the jobs of managers that
/// died (silent past the lease timeout, or gone), deletes manager documents silent for ten times
/// that timeout, and deletes final runs older than the retention when one is set.
public struct Custodian: Sendable {
    let database: any Database
    let clock: any WallClock
    let cleanupInterval: Int
    let leaseTimeout: Int
    let runRetention: Int?
    let logger: Logger

    public init(
        database: any Database, clock: any WallClock = SystemClock(), cleanupInterval: Int, leaseTimeout: Int,
        runRetention: Int?, logger: Logger
    ) {
        self.database = database
        self.clock = clock
        self.cleanupInterval = cleanupInterval
        self.leaseTimeout = leaseTimeout
        self.runRetention = runRetention
        self.logger = logger
    }

    public init(configuration: CustodianConfiguration, database: any Database, logger: Logger) {
        self.init(
            database: database, cleanupInterval: configuration.cleanupInterval,
            leaseTimeout: configuration.heartbeatTimeout, runRetention: configuration.runRetention, logger: logger)
    }

    /// Sweeps until cancelled.
    public func run() async {
        while !Task.isCancelled {
            await sweep()
            do { try await clock.sleep(until: clock.now().adding(milliseconds: Int64(cleanupInterval))) } catch {
                return
            }
        }
    }

    /// One sweep; errors are logged and the next sweep tries again.
    public func sweep() async {
        do {
            let freed = try await database.releaseJobsOfDeadManagers(leaseTimeout: leaseTimeout)
            if freed > 0 { logger.info("unlocked jobs of dead managers", metadata: ["jobs.count": "\(freed)"]) }
            let removed = try await database.deleteManagers(silentFor: 10 * leaseTimeout)
            if removed > 0 { logger.info("deleted dead managers", metadata: ["managers.count": "\(removed)"]) }
            if let runRetention {
                let cutoff = try await database.now().adding(milliseconds: -Int64(runRetention))
                let deleted = try await database.deleteFinalRuns(endedBefore: cutoff)
                if deleted > 0 { logger.info("deleted old runs", metadata: ["runs.count": "\(deleted)"]) }
            }
        } catch {
            logger.failure("custodian sweep failed", error)
        }
    }
}
