/// Status and heartbeat messages from workers, applied in batches (SPEC §2, §3).
extension SchedulerEngine {
    /// A delivery and the queue it came from.
    struct Inbound {
        let delivery: Delivery
        let job: String
        let key: String
    }

    /// Queues a delivery for the flusher. It never waits for a batch to be applied: while one
    /// is, new deliveries gather for the next, so a busy queue costs few database round trips.
    func receive(_ delivery: Delivery) async {
        guard let (job, key) = Topology.parseQueue(delivery.queue), key != Topology.actionKey else {
            logger.warning("dropped a message from a queue the scheduler does not read", metadata: ["queue": "\(delivery.queue)"])
            await delivery.ack()
            return
        }
        inbox.append(Inbound(delivery: delivery, job: job, key: key))
        inboxWake.yield()
    }

    /// Applies the inbox in batches until it is empty.
    func flushInbox() async {
        while !inbox.isEmpty {
            let batch = inbox
            inbox.removeAll()
            await apply(batch)
        }
    }

    private struct Parsed {
        let inbound: Inbound
        let runID: RunID
        let jobName: String
        /// `nil` for a heartbeat.
        let status: RunStatus?
        let attempt: Int?
    }

    private func drop(_ inbound: Inbound, _ reason: String, runID: RunID? = nil) async {
        logger.warning(
            "dropped a message: \(reason)",
            metadata: ["job.name": "\(inbound.job)", "queue": "\(inbound.key)", "run.id": "\(runID?.hex ?? "-")"])
        SchedulerMetrics.message(kind: inbound.key, outcome: "dropped")
        await inbound.delivery.ack()
    }

    private func apply(_ batch: [Inbound]) async {
        var parsed: [Parsed] = []
        for inbound in batch {
            do {
                if inbound.key == Topology.statusKey {
                    let message = try StatusMessage(parsing: inbound.delivery.body)
                    parsed.append(Parsed(inbound: inbound, runID: message.runID, jobName: message.jobName,
                        status: message.status, attempt: message.attempt))
                } else {
                    let message = try HeartbeatMessage(parsing: inbound.delivery.body)
                    parsed.append(Parsed(inbound: inbound, runID: message.runID, jobName: message.jobName,
                        status: nil, attempt: message.attempt))
                }
            } catch {
                await drop(inbound, "\(error)")
            }
        }
        guard !parsed.isEmpty else { return }
        let now = clock.now()
        var current: [RunID: Run]
        do {
            current = Dictionary(
                try await database.runs(ids: Array(Set(parsed.map(\.runID)))).map { ($0.id, $0) },
                uniquingKeysWith: { first, _ in first })
        } catch {
            await requeue(parsed.map(\.inbound), error)
            return
        }
        var transitions: [RunTransition] = []
        var lastIndex: [RunID: Int] = [:]
        var accepted: [Inbound] = []
        for message in parsed {
            let inbound = message.inbound
            guard message.jobName == inbound.job else {
                await drop(inbound, "it names job '\(message.jobName.prefix(64))'", runID: message.runID)
                continue
            }
            guard var run = current[message.runID] else {
                await drop(inbound, "unknown run", runID: message.runID)
                continue
            }
            guard run.jobName == message.jobName else {
                await drop(inbound, "the run belongs to job '\(run.jobName)'", runID: run.id)
                continue
            }
            if let attempt = message.attempt, attempt != run.attempt {
                await drop(inbound, "attempt \(attempt) is not the run's attempt \(run.attempt)", runID: run.id)
                continue
            }
            guard let status = message.status, !(status == .running && run.status == .running) else {
                // A heartbeat (or a repeated `running`): only a running run takes it; coalesced per run.
                guard run.status == .running else {
                    await drop(inbound, "heartbeat for a \(run.status.rawValue) run", runID: run.id)
                    continue
                }
                if let index = lastIndex[run.id], transitions[index].from == .running, transitions[index].to == .running {
                    transitions[index].at = now
                } else {
                    lastIndex[run.id] = transitions.count
                    transitions.append(.heartbeat(run.id, attempt: run.attempt, at: now))
                }
                accepted.append(inbound)
                continue
            }
            guard status.isWorkerReported, run.status.canTransition(to: status) else {
                await drop(inbound, "illegal transition \(run.status.rawValue) → \(status.rawValue)", runID: run.id)
                continue
            }
            let transition = RunTransition(id: run.id, from: run.status, attempt: run.attempt, to: status, at: now)
            run = run.applying(transition.changes)
            current[run.id] = run
            lastIndex[run.id] = transitions.count
            transitions.append(transition)
            accepted.append(inbound)
        }
        let outcomes: [TransitionOutcome]
        do {
            outcomes = try await database.applyTransitions(transitions)
        } catch {
            await requeue(accepted, error)
            return
        }
        for inbound in accepted {
            SchedulerMetrics.message(kind: inbound.key, outcome: "applied")
            await inbound.delivery.ack()
        }
        var finished: Set<String> = []
        for (transition, outcome) in zip(transitions, outcomes) where outcome == .applied && transition.to.isFinal {
            guard let run = current[transition.id] else { continue }
            finished.insert(run.jobName)
            if transition.to == .failed { await scheduleRetry(of: run, at: now) }
        }
        if !finished.isEmpty { await dispatchQueued(jobNames: finished) }
    }

    /// Only a transient database error puts messages back, after a pause (SPEC §2).
    private func requeue(_ inbounds: [Inbound], _ error: Error) async {
        logger.failure("cannot apply messages; requeueing", error, metadata: ["messages.count": "\(inbounds.count)"])
        try? await clock.sleep(until: clock.now().adding(milliseconds: 500))
        for inbound in inbounds {
            SchedulerMetrics.message(kind: inbound.key, outcome: "requeued")
            await inbound.delivery.nack(requeue: true)
        }
    }

    /// Inserts the next retry of a failed run as a `queued` run due after the doubling delay.
    func scheduleRetry(of failed: Run, at now: Timestamp) async {
        do {
            guard let job = try await database.job(named: failed.jobName), job.maxRetries > 0 else { return }
            var retries = 0
            var ancestor = failed
            while let parent = ancestor.retryOf, retries < job.maxRetries {
                retries += 1
                guard let next = try await database.run(id: parent) else { break }
                ancestor = next
            }
            guard retries < job.maxRetries else { return }
            let due = now.adding(milliseconds: RetryPolicy.delay(for: job, retry: retries + 1))
            let retry = Run(
                jobName: job.name, status: .queued, createdTime: due, trigger: .retry, retryOf: failed.id,
                statusTime: now)
            _ = try await database.insertRun(retry)
            SchedulerMetrics.slot(job: job.name, fate: "retried")
            logger.info("retry scheduled", metadata: ["job.name": "\(job.name)", "run.id": "\(retry.id)"])
        } catch {
            logger.failure("cannot schedule a retry", error, metadata: ["run.id": "\(failed.id)"])
        }
    }
}
