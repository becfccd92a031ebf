import CLinuxSocket

/// The lease, claims, and the set of held jobs.
extension SchedulerEngine {
    /// Renews the one heartbeat of this instance (SPEC §6). Claiming runs in a loop of its own:
    /// a large claim declares hundreds of topologies, and the lease must not wait for that.
    func renewLease() async {
        let sent = monotonic.now
        do {
            if try await database.renewManager(id: managerID) {
                leaseRenewedAt = sent
            } else {
                // The custodian removed our document: every lock may have been freed meanwhile.
                logger.warning("manager document was gone; registering again", metadata: ["manager.id": "\(managerID)"])
                for name in jobs.heldNames { drop(name) }
                try await database.registerManager(id: managerID, hostname: hostname)
                leaseRenewedAt = sent
            }
        } catch {
            logger.failure("cannot renew the lease", error)
        }
    }

    func claim() async {
        // Claims come from the heartbeat loop and from change polls; the actor lets them interleave
        // at awaits, so one at a time, or both would see the same room under SIMPLE_SCHEDULER_MAX_JOBS.
        guard leaseIsLive, !claiming else { return }
        claiming = true
        defer { claiming = false }
        var room = settings.maxJobs.map { $0 - jobs.heldCount } ?? Int.max
        // In batches, so that taking over 100,000 jobs never reads them all into memory at once.
        var claimed: [String] = []
        while room > 0 {
            let limit = min(room, Self.claimBatch)
            do {
                let batch = try await database.claimJobs(
                    for: managerID, limit: limit, leaseTimeout: settings.heartbeatTimeout)
                for job in batch {
                    logger.info("claimed job", metadata: ["job.name": "\(job.name)"])
                    hold(job)
                    jobs.schedule(job.name, at: Self.fireTime(job))
                    claimed.append(job.name)
                }
                guard batch.count == limit, leaseIsLive else { break }
                room -= batch.count
            } catch {
                logger.failure("cannot claim jobs", error)
                break
            }
        }
        // Every claimed job is scheduled before any topology is declared: declaring takes the
        // broker milliseconds per job, and a large claim (a failover) must not delay firing.
        await declare(claimed)  // in a few round trips; consuming is one job at a time
        for name in claimed where jobs.isHeld(name) { await ensureConsumers(name) }
        releaseFreedMemoryAfterLargeChanges()
    }

    /// Jobs read per claim from the database; a claim repeats while batches come back full.
    static let claimBatch = 1000

    /// glibc keeps freed heap pages resident. When the held set has grown or shrunk by 1,000 jobs
    /// since the last time (a start-up, a failover, a hand-over), the job table's outgrown buffers
    /// and the claims' transient reads are handed back; otherwise they would stay resident for
    /// good. Trimming walks the heap (milliseconds for 100,000 jobs), so only then.
    func releaseFreedMemoryAfterLargeChanges() {
        guard abs(jobs.heldCount - heldAtLastRelease) >= 1000 else { return }
        heldAtLastRelease = jobs.heldCount
        let started = monotonic.now
        clinux_release_free_memory()
        logger.debug(
            "freed memory handed back",
            metadata: ["took": "\(monotonic.now - started)", "jobs.count": "\(jobs.heldCount)"])
    }

    func adopt(_ job: Job) async {
        hold(job)
        SchedulerMetrics.jobsHeld(jobs.heldCount)
        jobs.schedule(job.name, at: Self.fireTime(job))
        await ensureConsumers(job.name)
    }

    /// Caches a held job (the table keeps what the engine reads, not the database's copy).
    private func hold(_ job: Job) {
        jobs[job.name] = job
    }

    /// When the timer queue should wake for `job`; `nil` when it has nothing to fire.
    static func fireTime(_ job: Job) -> Timestamp? {
        job.enabled && job.slotSchedule != nil ? job.nextRunAt : nil
    }

    /// Stops firing `name`. Its consumers stay while its runs are not final (see `cleanUpRuns`).
    func drop(_ name: String) {
        jobs[name] = nil
        SchedulerMetrics.jobsHeld(jobs.heldCount)
    }

    /// Re-reads the held jobs when the API changed any job (SPEC §5: within 1 s), and claims at once
    /// so a new job does not wait for the next heartbeat.
    func pollChanges() async {
        do {
            let marker = try await database.jobsChangeMarker()
            if marker != lastChangeMarker {
                lastChangeMarker = marker
                await refreshJobs()
                await claim()
            }
        } catch {
            logger.failure("cannot read the jobs change marker", error)
        }
        await dispatchQueued(jobNames: nil)
    }

    /// Re-reads every held job: edits take effect, disabled jobs are released, deleted jobs have
    /// their active runs cancelled, and jobs another instance took are dropped.
    ///
    /// A page of `claimBatch` jobs at a time. Read whole, 100,000 jobs were a 25 MB burst of
    /// small transient allocations per change, which left about 150 bytes per job of glibc heap
    /// resident for good; in pages the same few hundred kilobytes are reused.
    func refreshJobs() async {
        // The change poll and the periodic re-read both come here. A second sweep begun during
        // the first would clear the marks of the first's earlier pages, so it waits its turn:
        // the sweep under way runs once more, which also takes in whatever prompted the second.
        guard !refreshing else {
            refreshAgain = true
            return
        }
        refreshing = true
        defer { refreshing = false }
        repeat {
            refreshAgain = false
            await sweepHeldJobs()
        } while refreshAgain
        releaseFreedMemoryAfterLargeChanges()
    }

    private func sweepHeldJobs() async {
        do {
            // A job held during the sweep (a page, or a claim between pages) counts as seen.
            jobs.beginSweep()
            var after: String?
            while true {
                let page = try await database.jobs(lockedBy: managerID, after: after, limit: Self.claimBatch)
                for job in page {
                    if job.enabled {
                        await adopt(job)
                    } else {
                        drop(job.name)
                        _ = try await database.releaseJobs(of: managerID, names: [job.name])
                        logger.info("job disabled; released", metadata: ["job.name": "\(job.name)"])
                    }
                }
                guard page.count == Self.claimBatch, let last = page.last else { break }
                after = last.name
            }
            for name in jobs.unseenHeldNames {
                drop(name)
                if try await database.job(named: name) == nil {
                    logger.info("job deleted; cancelling its active runs", metadata: ["job.name": "\(name)"])
                    await cancelActiveRuns(of: name)
                } else {
                    logger.warning("lost the lock of a job", metadata: ["job.name": "\(name)"])
                }
            }
        } catch {
            // A sweep cut short drops nothing: the jobs not read yet are not known to be gone.
            logger.failure("cannot re-read held jobs", error)
        }
    }

    /// Declares the job's topology and subscribes its status and heartbeat queues, once.
    func ensureConsumers(_ name: String) async {
        // Not once shutting down: a claim of thousands of jobs would keep their locks for as long
        // as declaring the rest takes; a peer declares them after the shutdown releases them.
        guard !Task.isCancelled, jobs.subscriptions(of: name) == nil, await declare([name]).isEmpty else { return }
        var started: [Subscription] = []
        do {
            for key in [Topology.statusKey, Topology.heartbeatKey] {
                started.append(try await bus.subscribe(queue: Topology.queue(name, key), prefetch: 200, to: inboundSink))
            }
            jobs.setSubscriptions((status: started[0].id, heartbeat: started[1].id), of: name)
        } catch {
            // Both queues or neither, so the next attempt starts from nothing.
            for subscription in started { await bus.unsubscribe(subscription) }
            logger.warning(
                "cannot consume the job's queues yet", metadata: ["job.name": "\(name)", "error": "\(error)"])
        }
    }

    /// Stops consuming the job's queues.
    func stopConsuming(_ name: String) async {
        guard let ids = jobs.subscriptions(of: name) else { return }
        jobs.setSubscriptions(nil, of: name)
        await bus.unsubscribe(Subscription(queue: Topology.queue(name, Topology.statusKey), id: ids.status))
        await bus.unsubscribe(Subscription(queue: Topology.queue(name, Topology.heartbeatKey), id: ids.heartbeat))
    }

    /// Declares the topologies of `names` not declared yet, in one bus call, and returns the
    /// jobs whose topology is still not declared (logged). None once shutting down: the next
    /// holder declares them, and runs waiting on them stay in the outbox for it.
    @discardableResult
    func declare(_ names: some Sequence<String>) async -> Set<String> {
        let missing = Array(Set(names.filter { !jobs.isDeclared($0) }))
        guard !missing.isEmpty else { return [] }
        guard !Task.isCancelled else { return Set(missing) }
        let failures = await bus.declareTopologies(jobNames: missing)
        for name in missing where failures[name] == nil { jobs.setDeclared(name) }
        if let (name, error) = failures.first(where: { !($0.value is CancellationError) }) {
            // While the broker is away every attempt fails alike: quiet, as the outbox is.
            let unavailable = (error as? MessageBusError)?.code == .unavailable
            logger.log(
                level: unavailable ? .debug : .warning, "cannot declare the job's topology",
                metadata: ["job.name": "\(name)", "jobs.count": "\(failures.count)", "error": "\(error)"])
        }
        return Set(failures.keys)
    }
}
