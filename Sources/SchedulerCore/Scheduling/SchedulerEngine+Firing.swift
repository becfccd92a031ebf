/// Firing due slots and publishing the actions runs call for.
extension SchedulerEngine {
    func fireLoop() async {
        while !Task.isCancelled {
            await fireDue()
            let now = clock.now()
            // Wakes at the next due slot, and at least every 50 ms so jobs adopted meanwhile with an
            // earlier slot are not late by more than that.
            let wake = min(jobs.nextDue() ?? now.adding(milliseconds: 50), now.adding(milliseconds: 50))
            do { try await clock.sleep(until: wake) } catch { return }
        }
    }

    func fireDue() async {
        guard leaseIsLive else { return }
        let now = clock.now()
        let due = jobs.popDue(now).compactMap { jobs[$0] }
        var start = 0
        // A shutdown stops between batches: the jobs' locks are released, and the next holder
        // fires their slots from where the database says they are.
        while start < due.count, !Task.isCancelled {
            let batch = Array(due[start..<min(start + 500, due.count)])
            await fire(batch, now: now)
            start += batch.count
        }
    }

    /// Plans every due slot of `batch`, records the fires fenced by the lease, then publishes.
    func fire(_ batch: [Job], now: Timestamp) async {
        let exclusive = batch.filter { !$0.allowConcurrentRuns }.map(\.name)
        var active: [String: Int] = [:]
        var queued: [String: Int] = [:]
        do {
            if !exclusive.isEmpty {
                let open = try await database.runs(
                    matching: RunQuery(jobNames: exclusive, statuses: [.queued, .pending, .running, .cancelling]),
                    after: nil, limit: nil)
                for run in open.items {
                    if run.status == .queued { queued[run.jobName, default: 0] += 1 } else {
                        active[run.jobName, default: 0] += 1
                    }
                }
            }
        } catch {
            retryLater(batch.map(\.name), now: now, error: error)
            return
        }
        var fires: [SlotFire] = []
        for job in batch {
            guard let schedule = job.slotSchedule else { continue }
            let plan = DueSlots.plan(
                schedule: schedule, nextRunAt: job.nextRunAt, now: now, catchUpWindow: job.catchUpWindow)
            let runs = plan.fires.map { slot -> Run in
                let status: RunStatus
                switch slot.fate {
                case .missed:
                    status = .missed
                case .run:
                    switch ConcurrencyDecision.decide(
                        for: job, active: active[job.name, default: 0], queued: queued[job.name, default: 0])
                    {
                    case .dispatch:
                        active[job.name, default: 0] += 1
                        status = .pending
                    case .queue:
                        queued[job.name, default: 0] += 1
                        status = .queued
                    case .skip:
                        status = .skipped
                    }
                }
                return Run(
                    jobName: job.name, status: status, createdTime: slot.slot, endTime: status.isFinal ? now : nil,
                    missedSlots: slot.missedSlots, statusTime: now)
            }
            fires.append(
                SlotFire(jobName: job.name, expectedNextRunAt: job.nextRunAt, nextRunAt: plan.nextRunAt, runs: runs))
        }
        let outcomes: [FireOutcome]
        do {
            outcomes = try await database.recordFires(fires, manager: managerID, leaseTimeout: settings.heartbeatTimeout)
        } catch {
            retryLater(fires.map(\.jobName), now: now, error: error)
            return
        }
        var toPublish: [Run] = []
        for (fire, outcome) in zip(fires, outcomes) {
            switch outcome {
            case .recorded(let inserted):
                if let job = jobs.setNextRunAt(fire.nextRunAt, of: fire.jobName) {
                    jobs.schedule(job.name, at: Self.fireTime(job))
                }
                for (run, result) in zip(fire.runs, inserted) where result == .inserted {
                    SchedulerMetrics.slot(job: run.jobName, fate: Self.fate(of: run.status))
                    if run.status != .missed {
                        SchedulerMetrics.fireLateness(milliseconds: now.milliseconds(since: run.createdTime))
                    }
                    logger.debug(
                        "slot recorded",
                        metadata: ["job.name": "\(run.jobName)", "run.id": "\(run.id)", "run.status": "\(run.status)"])
                    if run.status == .pending { toPublish.append(run) }
                }
            case .lockLost:
                logger.warning("lock or lease lost; not firing", metadata: ["job.name": "\(fire.jobName)"])
                drop(fire.jobName)
            case .changed:
                await reload(fire.jobName)
            }
        }
        await publishSoon(toPublish)
    }

    /// Publishes without holding up the fire loop: the broker takes milliseconds to confirm, and
    /// slots falling due meanwhile would wait for it. With `maxPublishesInFlight` publishes
    /// outstanding the caller waits instead, so a slow broker slows firing rather than piling
    /// up tasks. Whatever is not confirmed stays in the outbox either way.
    func publishSoon(_ runs: [Run]) async {
        guard publishesInFlight < Self.maxPublishesInFlight else { return await publish(runs) }
        // Taken for publishing before the task starts, so the outbox cannot publish them meanwhile.
        let runs = takeForPublishing(runs)
        guard !runs.isEmpty else { return }
        publishesInFlight += 1
        backgroundPublishRequest.yield(runs)
    }

    static let maxPublishesInFlight = 4

    /// Runs the background publishes as child tasks of the engine's, so a shutdown cancels them
    /// with the rest and waits for them: one still declaring topologies stops there and leaves
    /// its runs in the outbox for the next holder; one waiting for confirms finishes and marks them.
    func runBackgroundPublishes() async {
        await withDiscardingTaskGroup { publishes in
            for await runs in backgroundPublishRequests {
                publishes.addTask { await self.publishInBackground(runs) }
            }
        }
    }

    private func publishInBackground(_ runs: [Run]) async {
        await send(runs)
        publishesInFlight -= 1
    }

    /// A slot's fate as the metrics name it.
    static func fate(of status: RunStatus) -> String {
        switch status {
        case .pending: return "fired"
        case .queued: return "queued"
        case .skipped: return "skipped"
        case .missed: return "missed"
        default: return status.rawValue
        }
    }

    private func retryLater(_ names: [String], now: Timestamp, error: Error) {
        logger.failure("cannot fire; retrying in 1 s", error, metadata: ["jobs.count": "\(names.count)"])
        for name in names where jobs.isHeld(name) { jobs.schedule(name, at: now.adding(milliseconds: 1000)) }
    }

    /// Re-reads one job whose stored state moved under us (an API edit between plan and record).
    func reload(_ name: String) async {
        do {
            if let job = try await database.job(named: name), job.managerId == managerID, job.enabled {
                await adopt(job)
            } else {
                drop(name)
            }
        } catch {
            jobs.schedule(name, at: clock.now().adding(milliseconds: 1000))
        }
    }

    /// Publishes the action each run's status calls for (run for `pending`, cancel for
    /// `cancelling`) and marks the confirmed ones. Unconfirmed ones stay in the outbox.
    func publish(_ runs: [Run]) async {
        await send(takeForPublishing(runs))
    }

    /// The runs not being published already, now marked as being published.
    private func takeForPublishing(_ runs: [Run]) -> [Run] {
        let runs = runs.filter { !publishing.contains($0.id) }
        for run in runs { publishing.insert(run.id) }
        return runs
    }

    /// Publishes runs taken for publishing, marks the confirmed ones, and lets go of them all.
    private func send(_ runs: [Run]) async {
        guard !runs.isEmpty else { return }
        defer { for run in runs { publishing.remove(run.id) } }
        // A job whose topology the broker refuses keeps its runs in the outbox, not the others'.
        let undeclared = await declare(runs.map(\.jobName))
        let runs = runs.filter { !undeclared.contains($0.jobName) }
        guard !runs.isEmpty else { return }
        do {
            let messages = runs.map { run in
                OutgoingMessage(
                    action: ActionMessage(
                        jobName: run.jobName, runID: run.id, action: run.status == .cancelling ? .cancel : .run,
                        attempt: run.attempt))
            }
            let started = ContinuousClock.now
            let confirmed = try await bus.publish(messages)
            SchedulerMetrics.publishConfirm(started.duration(to: .now), messages: messages.count)
            let done = zip(runs, confirmed).filter(\.1).map {
                PublishedAction(id: $0.0.id, status: $0.0.status, attempt: $0.0.attempt)
            }
            try await database.markPublished(done)
            markSequence += 1
            for action in done { marked[action] = markSequence }
        } catch {
            logger.debug("actions left in the outbox", metadata: ["error": "\(error)", "runs.count": "\(runs.count)"])
        }
    }

    /// Publishes what earlier attempts could not (broker down, crash between insert and publish).
    func publishOutbox() async {
        guard !jobs.isEmpty else { return }
        // Marks up to here are visible to the read below; later ones may not be.
        let fence = markSequence
        marked = marked.filter { $0.value > fence }
        do {
            // The whole outbox, filtered here: it is near empty, while a list of held names (sent
            // to the database every second) grows with the jobs held.
            let runs = try await database.unpublishedRuns(jobNames: nil)
            await publish(runs.filter {
                jobs.isHeld($0.jobName) && marked[PublishedAction(id: $0.id, status: $0.status, attempt: $0.attempt)] == nil
            })
        } catch {
            logger.failure("cannot read the outbox", error)
        }
    }
}
