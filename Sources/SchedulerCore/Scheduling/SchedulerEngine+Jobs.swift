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
                for name in Array(jobs.keys) { drop(name) }
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
        var room: Int?
        if let maxJobs = settings.maxJobs {
            room = maxJobs - jobs.count
            guard room! > 0 else { return }
        }
        do {
            let claimed = try await database.claimJobs(
                for: managerID, limit: room, leaseTimeout: settings.heartbeatTimeout)
            // Every claimed job is scheduled before any topology is declared: declaring takes the
            // broker milliseconds per job, and a large claim (a failover) must not delay firing.
            for job in claimed {
                logger.info("claimed job", metadata: ["job.name": "\(job.name)"])
                hold(job)
                timers.schedule(job.name, at: Self.fireTime(job))
            }
            for job in claimed where jobs[job.name] != nil { await ensureConsumers(job.name) }
        } catch {
            logger.failure("cannot claim jobs", error)
        }
    }

    func adopt(_ job: Job) async {
        hold(job)
        SchedulerMetrics.jobsHeld(jobs.count)
        timers.schedule(job.name, at: Self.fireTime(job))
        await ensureConsumers(job.name)
    }

    /// Caches a held job. Its `managerId` is ours: sharing our string's storage instead of the
    /// copy each database read makes saves an allocation per held job.
    private func hold(_ job: Job) {
        var job = job
        job.managerId = managerID
        jobs[job.name] = job
    }

    /// When the timer queue should wake for `job`; `nil` when it has nothing to fire.
    static func fireTime(_ job: Job) -> Timestamp? {
        job.enabled && job.slotSchedule != nil ? job.nextRunAt : nil
    }

    /// Stops firing `name`. Its consumers stay while its runs are not final (see `cleanUpRuns`).
    func drop(_ name: String) {
        jobs[name] = nil
        timers.schedule(name, at: nil)
        SchedulerMetrics.jobsHeld(jobs.count)
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
    func refreshJobs() async {
        do {
            let held = try await database.jobs(lockedBy: managerID)
            let names = Set(held.map(\.name))
            for name in jobs.keys where !names.contains(name) {
                drop(name)
                if try await database.job(named: name) == nil {
                    logger.info("job deleted; cancelling its active runs", metadata: ["job.name": "\(name)"])
                    await cancelActiveRuns(of: name)
                } else {
                    logger.warning("lost the lock of a job", metadata: ["job.name": "\(name)"])
                }
            }
            for job in held {
                if job.enabled {
                    await adopt(job)
                } else {
                    drop(job.name)
                    _ = try await database.releaseJobs(of: managerID, names: [job.name])
                    logger.info("job disabled; released", metadata: ["job.name": "\(job.name)"])
                }
            }
        } catch {
            logger.failure("cannot re-read held jobs", error)
        }
    }

    /// Declares the job's topology and subscribes its status and heartbeat queues, once.
    func ensureConsumers(_ name: String) async {
        guard subscriptions[name] == nil else { return }
        var started: [Subscription] = []
        do {
            try await declare(name)
            for key in [Topology.statusKey, Topology.heartbeatKey] {
                started.append(try await bus.subscribe(queue: Topology.queue(name, key), prefetch: 200, to: inboundSink))
            }
            subscriptions[name] = started
        } catch {
            // Both queues or neither, so the next attempt starts from nothing.
            for subscription in started { await bus.unsubscribe(subscription) }
            logger.warning(
                "cannot consume the job's queues yet", metadata: ["job.name": "\(name)", "error": "\(error)"])
        }
    }

    func declare(_ name: String) async throws {
        guard !declared.contains(name) else { return }
        try await bus.declareTopology(jobName: name)
        declared.insert(name)
    }
}
