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
        return try json(.ok, page.items, headers: headers)
    }

    func getJob(_ name: String) async throws -> HTTPResponse {
        try json(.ok, try await existingJob(name))
    }

    func createJob(_ request: HTTPRequest) async throws -> HTTPResponse {
        let job = try JobInput(request.body).job()
        do {
            try await storage { try await database.createJob(job) }
        } catch let error as DatabaseError where error.isJobExists {
            throw HTTPError.conflict("a job named '\(job.name)' exists already")
        }
        logger.info("job created", metadata: ["job.name": "\(job.name)"])
        return try json(.created, ["name": job.name])
    }

    func updateJob(_ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        let patch = try JobInput(request.body).patch()
        // Validate the job as it would be; the write itself is one atomic update.
        try JobInput.validate(patch.applied(to: try await existingJob(name)))
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
        if job.scheduleKind == .cron {
            throw HTTPError(.notImplemented, "cron schedules cannot be listed by this version yet")
        }
        if let schedule = job.slotSchedule, var slot = job.nextRunAt {
            while next.count < count {
                next.append(RFC3339.format(slot))
                guard let following = schedule.nextSlot(after: slot) else { break }
                slot = following
            }
        }
        return try json(.ok, ["next": next])
    }

    func existingJob(_ name: String) async throws -> Job {
        guard let job = try await storage({ try await database.job(named: name) }) else {
            throw HTTPError.notFound("no job named '\(name)'")
        }
        return job
    }
}
