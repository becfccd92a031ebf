import Foundation
import Logging
import SchedulerCore

/// Consumes the action queues of its jobs, runs commands, reports statuses and heartbeats.
actor Worker {
    struct Running {
        let jobName: String
        let attempt: Int
        let process: ChildProcess
        var cancelled = false
    }

    let bus: any MessageBus
    let commands: [String: String]
    let heartbeatInterval: Duration
    let grace: Duration
    let logger: Logger
    private var running: [RunID: Running] = [:]

    init(bus: any MessageBus, commands: [String: String], heartbeatInterval: Duration, grace: Duration, logger: Logger) {
        self.bus = bus
        self.commands = commands
        self.heartbeatInterval = heartbeatInterval
        self.grace = grace
        self.logger = logger
    }

    /// Runs until cancelled; then stops the commands still running (reporting them cancelled).
    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for job in commands.keys.sorted() {
                try await bus.declareTopology(jobName: job)
                let consumer = try await bus.consume(queue: Topology.queue(job, Topology.actionKey), prefetch: 16)
                group.addTask {
                    for await delivery in consumer.deliveries {
                        await self.handle(delivery)
                    }
                }
            }
            group.addTask { await self.heartbeatLoop() }
            logger.info("waiting for actions", metadata: ["jobs": "\(commands.keys.sorted())"])
            do {
                try await withTaskCancellationHandler {
                    try await group.next()
                } onCancel: {}
            } catch is CancellationError {}
            group.cancelAll()
        }
        for (id, entry) in running { await cancel(id, entry) }
    }

    private func handle(_ delivery: Delivery) async {
        guard let action = try? ActionMessage(parsing: delivery.body), commands[action.jobName] != nil else {
            logger.warning("dropping a message that is not an action for one of our jobs")
            await delivery.ack()
            return
        }
        switch action.action {
        case .run: await start(action)
        case .cancel:
            if let entry = running[action.runID] {
                await cancel(action.runID, entry)
            } else {
                // Not running here (finished, or never started): say so, so the run can end.
                await report(action.jobName, action.runID, .cancelled, attempt: action.attempt)
            }
        }
        await delivery.ack()
    }

    private func start(_ action: ActionMessage) async {
        if let current = running[action.runID], current.attempt >= action.attempt {
            return  // a duplicate delivery (SPEC §2: at least once)
        }
        let command = commands[action.jobName]!
        let process: ChildProcess
        do {
            process = try ChildProcess(shellCommand: command, environment: [
                "SIMPLE_SCHEDULER_JOB_NAME": action.jobName, "SIMPLE_SCHEDULER_RUN_ID": action.runID.hex,
                "SIMPLE_SCHEDULER_ATTEMPT": String(action.attempt),
            ])
        } catch {
            logger.error("cannot start the command", metadata: ["job.name": "\(action.jobName)", "error": "\(error)"])
            await report(action.jobName, action.runID, .failed, attempt: action.attempt)
            return
        }
        running[action.runID] = Running(jobName: action.jobName, attempt: action.attempt, process: process)
        logger.info("run started", metadata: ["job.name": "\(action.jobName)", "run.id": "\(action.runID)"])
        await report(action.jobName, action.runID, .running, attempt: action.attempt)
        Task {
            let status = await process.exitStatus()
            await self.finished(action.runID, attempt: action.attempt, exitStatus: status)
        }
    }

    private func finished(_ id: RunID, attempt: Int, exitStatus: Int32) async {
        guard let entry = running[id], entry.attempt == attempt else { return }
        running[id] = nil
        let status: RunStatus = entry.cancelled ? .cancelled : exitStatus == 0 ? .completed : .failed
        logger.info("run ended", metadata: ["job.name": "\(entry.jobName)", "run.id": "\(id)", "run.status": "\(status)",
                                             "exit.status": "\(exitStatus)"])
        await report(entry.jobName, id, status, attempt: attempt)
    }

    private func cancel(_ id: RunID, _ entry: Running) async {
        guard !entry.cancelled else { return }
        running[id]?.cancelled = true
        entry.process.signalGroup(SIGTERM)
        let process = entry.process
        let grace = self.grace
        Task {
            try? await Task.sleep(for: grace)
            process.signalGroup(SIGKILL)  // harmless when it has exited already
        }
    }

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeatInterval)
            let messages = running.filter { !$0.value.cancelled }.map { id, entry in
                OutgoingMessage(
                    exchange: Topology.exchange(entry.jobName), routingKey: Topology.heartbeatKey,
                    body: HeartbeatMessage(jobName: entry.jobName, runID: id, attempt: entry.attempt).body)
            }
            if !messages.isEmpty { _ = try? await bus.publish(messages) }
        }
    }

    /// Publishes a status, retrying while the broker is away: a lost final status would leave the
    /// run to the scheduler's timeouts.
    private func report(_ job: String, _ id: RunID, _ status: RunStatus, attempt: Int) async {
        let message = OutgoingMessage(
            exchange: Topology.exchange(job), routingKey: Topology.statusKey,
            body: StatusMessage(jobName: job, runID: id, status: status, attempt: attempt).body)
        for delay in [0, 200, 1000, 5000, 15000] {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            if (try? await bus.publish([message])) == [true] { return }
        }
        logger.error("could not report a status", metadata: ["run.id": "\(id)", "run.status": "\(status)"])
    }
}
