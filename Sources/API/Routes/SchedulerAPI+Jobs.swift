import HTTPServer
import SchedulerCore

extension SchedulerAPI {
    func listJobs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let query = try QueryParameters(request)
        try query.requireOnly(["limit", "after"])
        let paging = try Paging(query)
        let after = try paging.after.map { text throws(HTTPError) in try Paging.decode(jobCursor: text) }
        let page = try await storage { try await database.jobs(after: after, limit: paging.limit) }
        var headers = HTTPHeaders()
        if let next = page.next {
            headers.append(name: "Link", value: Paging.link(for: request, query: query, next: Paging.encode(jobCursor: next)))
        }
        return json(.ok, page.items, headers: headers)
    }

    func getJob(_ name: String) async throws -> HTTPResponse {
        json(.ok, try await existingJob(name))
    }

    func createJob(_ request: HTTPRequest) async throws -> HTTPResponse {
        var job = try JobInput(request.body).job()
        if job.scheduleKind == .cron { job.nextRunAt = try Self.firstCronFire(job, from: job.nextRunAt) }
        do {
            try await storage { try await database.createJob(job) }
        } catch let error as DatabaseError where error.isJobExists {
            throw HTTPError.conflict("a job named '\(job.name)' exists already")
        }
        logger.info("job created", metadata: ["job.name": "\(job.name)"])
        return try json(.created, ["name": job.name])
    }

    func updateJob(_ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        var patch = try JobInput(request.body).patch()
        // Validate the job as it would be; the write itself is one atomic update.
        let changed = patch.applied(to: try await existingJob(name))
        try JobInput.validate(changed)
        if changed.scheduleKind == .cron && (patch.cron != nil || patch.timezone != nil || patch.nextRunAt != nil) {
            // A new expression, zone or start: the next fire is recomputed from it.
            patch.nextRunAt = .some(try Self.firstCronFire(changed, from: patch.nextRunAt ?? nil))
        }
        guard try await storage({ try await database.updateJob(named: name, patch) }) != nil else {
            throw HTTPError.notFound("no job named '\(name)'")
        }
        logger.info("job updated", metadata: ["job.name": "\(name)"])
        return HTTPResponse(status: .noContent)
    }

    func deleteJob(_ name: String) async throws -> HTTPResponse {
        // The instance that holds the job sees it gone and cancels its active runs (SPEC §5).
        guard try await storage({ try await database.deleteJob(named: name) }) else {
            throw HTTPError.notFound("no job named '\(name)'")
        }
        logger.info("job deleted", metadata: ["job.name": "\(name)"])
        return HTTPResponse(status: .noContent)
    }

    /// A manual run: inserted `queued`; the instance that holds the job applies the concurrency
    /// rule to it within a second (SPEC §5).
    func triggerJob(_ name: String) async throws -> HTTPResponse {
        let job = try await existingJob(name)
        guard job.enabled else { throw HTTPError.conflict("job '\(name)' is disabled; enable it to trigger runs") }
        let run = Run(jobName: name, status: .queued, createdTime: .now, trigger: .manual)
        _ = try await storage { try await database.insertRun(run) }
        logger.info("run triggered", metadata: ["job.name": "\(name)", "run.id": "\(run.id)"])
        return try json(.created, ["id": run.id.hex])
    }

    func schedule(_ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        let query = try QueryParameters(request)
        try query.requireOnly(["count"])
        var count = 10
        if let text = query["count"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw HTTPError.badRequest("count must be a whole number from 1 to 1000 (got '\(text)')")
            }
            count = value
        }
        let job = try await existingJob(name)
        var next: [String] = []
        if let schedule = job.slotSchedule, var slot = job.nextRunAt {
            while next.count < count {
                next.append(RFC3339.format(slot))
                guard let following = schedule.nextSlot(after: slot) else { break }
                slot = following
            }
        }
        return try json(.ok, ["next": next])
    }

    /// SPEC §5: a cron job's first fire is the first cron instant at or after the given
    /// `nextRunAt`, or the next one from now.
    static func firstCronFire(_ job: Job, from start: Timestamp?) throws(HTTPError) -> Timestamp {
        guard let schedule = job.cronSchedule else { throw .badRequest("the cron expression or time zone is invalid") }
        let first = start.map { schedule.firstSlot(atOrAfter: $0) } ?? schedule.nextSlot(after: .now)
        guard let first else { throw .badRequest("cron expression '\(job.cron ?? "")' has no fire time in the next 30 years") }
        return first
    }

    func existingJob(_ name: String) async throws -> Job {
        guard let job = try await storage({ try await database.job(named: name) }) else {
            throw HTTPError.notFound("no job named '\(name)'")
        }
        return job
    }
}
