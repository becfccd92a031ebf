import HTTPServer
import SchedulerCore

extension SchedulerAPI {
    /// Filters of `GET /api/runs`: camelCase, and the original's PascalCase.
    static let runFilters: [(camel: String, pascal: String)] = [
        ("jobName", "JobName"), ("status", "Status"), ("trigger", "Trigger"), ("createdBefore", "CreatedBefore"),
        ("startedBefore", "StartedBefore"), ("heartbeatBefore", "HeartbeatBefore"),
    ]

    func listRuns(_ request: HTTPRequest) async throws -> HTTPResponse {
        let query = try QueryParameters(request)
        try query.requireOnly(Set(Self.runFilters.flatMap { [$0.camel, $0.pascal] } + ["limit", "after"]))
        let paging = try Paging(query)
        let value = { (name: String) in
            let pair = Self.runFilters.first { $0.camel == name }!
            return query[pair.camel] ?? query[pair.pascal]
        }
        var filter = RunQuery()
        if let name = value("jobName") { filter.jobNames = [name] }
        if let text = value("status") {
            filter.statuses = try text.split(separator: ",").map { part throws(HTTPError) in
                guard let status = RunStatus(rawValue: String(part)) else {
                    throw .badRequest(
                        "status '\(part)' is not one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return status
            }
        }
        if let text = value("trigger") {
            guard let trigger = RunTrigger(rawValue: text) else {
                throw HTTPError.badRequest(
                    "trigger '\(text)' is not one of \(RunTrigger.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.trigger = trigger
        }
        filter.createdBefore = try time(value("createdBefore"), "createdBefore")
        filter.startedBefore = try time(value("startedBefore"), "startedBefore")
        filter.heartbeatBefore = try time(value("heartbeatBefore"), "heartbeatBefore")
        let after = try paging.after.map { text throws(HTTPError) in try Paging.decode(runCursor: text) }
        let page = try await storage { try await database.runs(matching: filter, after: after, limit: paging.limit) }
        var headers = HTTPHeaders()
        if let next = page.next {
            headers.append(name: "Link", value: Paging.link(for: request, query: query, next: Paging.encode(runCursor: next)))
        }
        return json(.ok, page.items, headers: headers)
    }

    func getRun(_ text: String) async throws -> HTTPResponse {
        json(.ok, try await existingRun(text))
    }

    /// SPEC §7: `pending`/`running` → `cancelling` with a cancel action published; `queued` →
    /// `cancelled`; already cancelling or cancelled: done; other final statuses: 400.
    func cancelRun(_ text: String) async throws -> HTTPResponse {
        // Compare-and-set: a worker's message may change the run between the read and the write.
        for _ in 0..<5 {
            let run = try await existingRun(text)
            let target: RunStatus
            switch run.status {
            case .cancelling, .cancelled: return HTTPResponse(status: .noContent)
            case .queued: target = .cancelled
            case .pending, .running: target = .cancelling
            case .completed, .failed, .skipped, .missed: throw HTTPError.badRequest("Run already finished")
            }
            let transition = RunTransition(id: run.id, from: run.status, attempt: run.attempt, to: target, at: .now)
            switch try await storage({ try await database.applyTransition(transition) }) {
            case .applied:
                logger.info("run cancel requested", metadata: ["run.id": "\(run.id)", "run.status": "\(target)"])
                if target == .cancelling { await publishCancel(run) }
                return HTTPResponse(status: .noContent)
            case .notFound: throw HTTPError.notFound("no run with id \(run.id)")
            case .conflict, .illegal: continue
            }
        }
        throw HTTPError.conflict("the run kept changing while it was being cancelled; try again")
    }

    /// Publishes the cancel action and marks it sent. When the broker is unreachable the run
    /// stays `cancelling` and unpublished: the owning scheduler's outbox sends it later.
    private func publishCancel(_ run: Run) async {
        let message = OutgoingMessage(action: ActionMessage(jobName: run.jobName, runID: run.id, action: .cancel, attempt: run.attempt))
        do {
            try await bus.declareTopology(jobName: run.jobName)
            if try await bus.publish([message]) == [true] {
                try await database.markPublished([PublishedAction(id: run.id, status: .cancelling, attempt: run.attempt)])
            }
        } catch {
            logger.warning(
                "cancel action not published yet; the scheduler's outbox will send it",
                metadata: ["run.id": "\(run.id)", "error": "\(error)"])
        }
    }

    private func existingRun(_ text: String) async throws -> Run {
        let id: RunID
        do {
            id = try RunID(validating: text)
        } catch {
            throw HTTPError.badRequest("'\(text.prefix(40))' is not a run id (24 hexadecimal characters)")
        }
        guard let run = try await storage({ try await database.run(id: id) }) else {
            throw HTTPError.notFound("no run with id \(id)")
        }
        return run
    }

    private func time(_ text: String?, _ name: String) throws(HTTPError) -> Timestamp? {
        guard let text else { return nil }
        let parsed: Timestamp?
        do {
            parsed = try RFC3339.parse(text)
        } catch {
            throw .badRequest("\(name): \(error)")
        }
        guard let parsed else { throw .badRequest("\(name) must be a real time, not the zero time") }
        return parsed
    }
}
