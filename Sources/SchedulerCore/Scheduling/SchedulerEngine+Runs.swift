/// Held runs, timeouts, and cancels.
extension SchedulerEngine {
    /// Applies the concurrency rule to `queued` runs that are due (held slots, manual triggers,
    /// retries): dispatched oldest first when the job has room, kept up to `maxQueueCount`,
    /// skipped beyond it (SPEC §5).
    func dispatchQueued(jobNames: Set<String>?) async {
        guard leaseIsLive, !jobs.isEmpty else { return }
        let now = clock.now()
        do {
            let waiting = try await database.runs(
                matching: RunQuery(jobNames: jobNames.map(Array.init), statuses: [.queued]), after: nil, limit: nil
            ).items.filter { jobs.isHeld($0.jobName) && $0.createdTime <= now }
            guard !waiting.isEmpty else { return }
            let names = Array(Set(waiting.map(\.jobName)))
            var active: [String: Int] = [:]
            for run in try await database.runs(
                matching: RunQuery(jobNames: names, statuses: [.pending, .running, .cancelling]), after: nil, limit: nil
            ).items {
                active[run.jobName, default: 0] += 1
            }
            var transitions: [RunTransition] = []
            var runsByID: [RunID: Run] = [:]
            for name in names {
                guard let job = jobs[name] else { continue }
                var running = active[name, default: 0]
                var kept = 0
                let list = waiting.filter { $0.jobName == name }.sorted {
                    $0.createdTime != $1.createdTime ? $0.createdTime < $1.createdTime : $0.id < $1.id
                }
                for run in list {
                    runsByID[run.id] = run
                    if job.allowConcurrentRuns || running == 0 {
                        running += 1
                        transitions.append(RunTransition(id: run.id, from: .queued, to: .pending, at: now))
                    } else if kept < job.maxQueueCount {
                        kept += 1
                    } else {
                        transitions.append(RunTransition(id: run.id, from: .queued, to: .skipped, at: now))
                    }
                }
            }
            guard !transitions.isEmpty else { return }
            let outcomes = try await database.applyTransitions(transitions)
            var dispatched: [Run] = []
            for (transition, outcome) in zip(transitions, outcomes) where outcome == .applied && transition.to == .pending {
                if let run = runsByID[transition.id] { dispatched.append(run.applying(transition.changes)) }
            }
            await publish(dispatched)
        } catch {
            logger.failure("cannot dispatch queued runs", error)
        }
    }

    /// Start, execution and heartbeat timeouts, and cancels nobody answered (SPEC §3, §4).
    func cleanUpRuns() async {
        do {
            // The clock before the list: a heartbeat landing in between makes a run look
            // younger, never older.
            let now = jobs.isEmpty ? nil : try await database.now()
            // Every instance's open runs, one read for both uses: there are as many as runs in
            // flight, while a list of held names to filter by would grow with the jobs held.
            let open = try await database.runs(
                matching: RunQuery(statuses: [.pending, .running, .cancelling]), after: nil, limit: nil
            ).items
            await follow(openRuns: open)
            guard let now else { return }
            var transitions: [RunTransition] = []
            var resets: [Run] = []
            var byID: [RunID: Run] = [:]
            for run in open {
                guard let job = jobs[run.jobName] else { continue }
                byID[run.id] = run
                func older(_ time: Timestamp?, than limit: Int) -> Bool {
                    limit > 0 && (time ?? run.createdTime) < now.adding(milliseconds: -Int64(limit))
                }
                switch run.status {
                case .running where older(run.heartbeat ?? run.startTime, than: job.heartbeatTimeout):
                    resets.append(run)
                    transitions.append(RunTransition(id: run.id, from: .running, attempt: run.attempt, to: .pending, at: now))
                case .running where older(run.startTime, than: job.runExecutionTimeout),
                    .pending where older(run.statusTime, than: job.runStartTimeout):
                    transitions.append(RunTransition(id: run.id, from: run.status, attempt: run.attempt, to: .cancelling, at: now))
                case .cancelling
                where older(run.statusTime, than: job.heartbeatTimeout > 0 ? job.heartbeatTimeout : settings.defaultCancelTimeout):
                    logger.warning("no worker answered the cancel; cancelled", metadata: ["run.id": "\(run.id)", "job.name": "\(run.jobName)"])
                    transitions.append(RunTransition(id: run.id, from: .cancelling, attempt: run.attempt, to: .cancelled, at: now))
                default:
                    continue
                }
            }
            guard !transitions.isEmpty else { return }
            // A reset cancels the old attempt before the new one's run action (SPEC §3).
            if !resets.isEmpty {
                let cancels = resets.map {
                    OutgoingMessage(action: ActionMessage(jobName: $0.jobName, runID: $0.id, action: .cancel, attempt: $0.attempt))
                }
                _ = try? await bus.publish(cancels)
            }
            let outcomes = try await database.applyTransitions(transitions)
            var toPublish: [Run] = []
            var finished: Set<String> = []
            for (transition, outcome) in zip(transitions, outcomes) where outcome == .applied {
                guard let run = byID[transition.id] else { continue }
                if transition.to == .cancelled { finished.insert(run.jobName) }
                if transition.to == .pending || transition.to == .cancelling {
                    if transition.to == .pending {
                        logger.warning("heartbeat timeout; run reset", metadata: ["run.id": "\(run.id)", "job.name": "\(run.jobName)"])
                    }
                    toPublish.append(run.applying(transition.changes))
                }
            }
            await publish(toPublish)
            if !finished.isEmpty { await dispatchQueued(jobNames: finished) }
        } catch {
            logger.failure("cannot clean up runs", error)
        }
    }

    /// Keeps consuming the queues of every job that has runs not yet final (`openRuns`), held or
    /// not (disabled, deleted, handed over), and stops consuming the others (SPEC §5).
    func follow(openRuns: [Run]) async {
        let wanted = Set(openRuns.map(\.jobName)).union(jobs.heldNames)
        await declare(wanted)
        for name in wanted { await ensureConsumers(name) }
        for name in jobs.subscribedNames where !wanted.contains(name) { await stopConsuming(name) }
    }

    /// A deleted job's active runs are cancelled; queued ones that no worker saw end at once.
    func cancelActiveRuns(of name: String) async {
        do {
            let now = clock.now()
            let open = try await database.runs(
                matching: RunQuery(jobNames: [name], statuses: [.queued, .pending, .running]), after: nil, limit: nil
            ).items
            let transitions = open.map {
                RunTransition(id: $0.id, from: $0.status, attempt: $0.attempt, to: $0.status == .queued ? .cancelled : .cancelling, at: now)
            }
            let outcomes = try await database.applyTransitions(transitions)
            await publish(zip(open, zip(transitions, outcomes)).compactMap { run, pair in
                pair.1 == .applied && pair.0.to == .cancelling ? run.applying(pair.0.changes) : nil
            })
        } catch {
            logger.failure("cannot cancel the runs of a deleted job", error, metadata: ["job.name": "\(name)"])
        }
    }
}
