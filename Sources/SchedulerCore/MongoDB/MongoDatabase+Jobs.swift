extension MongoDatabase {
    public func createJob(_ job: Job) async throws {
        let document = MongoDocuments.document(job)
        try await perform { session throws(DatabaseError) in
            let reply = try session.insert("jobs", [document], ordered: true)
            let duplicate = (reply["writeErrors"]?.arrayValue ?? []).contains {
                $0.documentValue?["code"]?.intValue == MongoError.duplicateKey
            }
            // The name is the `_id`: a duplicate key can only be the name.
            if duplicate { throw DatabaseError.jobExists(job.name) }
            try MongoError.checkWriteErrors(reply, operation: "create job")
            session.statistics.recordWrites(1)
            try Self.bumpJobsChangeMarker(session)
        }
    }

    public func job(named name: String) async throws -> Job? {
        try await perform { session throws(DatabaseError) in
            try session.find("jobs", ["_id": .string(name)], options: ["limit": 1]).first.map(MongoDocuments.job)
        }
    }

    public func updateJob(named name: String, _ patch: JobPatch) async throws -> Job? {
        let update = MongoDocuments.update(patch)
        return try await perform { session throws(DatabaseError) in
            guard let update else {
                // An empty `$set` is refused by the server; an empty patch changes nothing, but
                // the marker still moves for an existing job, as every adapter's does.
                let found = try session.find("jobs", ["_id": .string(name)], options: ["limit": 1]).first.map(
                    MongoDocuments.job)
                if found != nil { try Self.bumpJobsChangeMarker(session) }
                return found
            }
            guard let document = try session.findAndModify("jobs", query: ["_id": .string(name)], update: update) else {
                return nil
            }
            session.statistics.recordWrites(1)
            try Self.bumpJobsChangeMarker(session)
            return try MongoDocuments.job(document)
        }
    }

    public func deleteJob(named name: String) async throws -> Bool {
        try await perform { session throws(DatabaseError) in
            let count = try session.delete("jobs", ["_id": .string(name)], justOne: true)
            session.statistics.recordWrites(count)
            if count > 0 { try Self.bumpJobsChangeMarker(session) }
            return count > 0
        }
    }

    public func jobs(after: String?, limit: Int) async throws -> Page<Job, String> {
        guard limit > 0 else { return Page(items: [], next: nil) }
        let filter: BSONFields = after.map { ["_id": ["$gt": .string($0)]] } ?? [:]
        let documents = try await perform { session throws(DatabaseError) in
            // One more than asked says whether a next page exists.
            try session.find("jobs", filter, options: ["sort": ["_id": 1], "limit": .int(limit + 1)])
        }
        let jobs = try documents.map(MongoDocuments.job)
        let items = Array(jobs.prefix(limit))
        return Page(items: items, next: jobs.count > limit ? items.last?.name : nil)
    }

    public func jobs(lockedBy manager: String, after: String?, limit: Int) async throws -> [Job] {
        guard limit > 0 else { return [] }
        var query: BSONFields = ["managerId": ["$in": .array(BSON.identifierForms(manager))]]
        if let after { query["_id"] = ["$gt": .string(after)] }
        let filter = query
        let documents = try await perform { session throws(DatabaseError) in
            try session.find("jobs", filter, options: ["sort": ["_id": 1], "limit": .int(limit)])
        }
        return try documents.map(MongoDocuments.job)
    }

    public func jobsChangeMarker() async throws -> Int64 {
        try await perform { session throws(DatabaseError) in
            let document = try session.find("meta", ["_id": "jobs"], options: ["limit": 1]).first
            return Int64(document?["value"]?.intValue ?? 0)
        }
    }

    /// Moves the jobs change marker: `{_id: "jobs", value: n}` in `meta`, `$inc` with upsert.
    ///
    /// Called after the job write, never before: a poller that sees the marker move then
    /// reloads and finds the change (moved first, a poller could reload before the write
    /// lands and then miss it for good). The two writes are not one transaction, so a crash
    /// of this process (or a failed bump, whose error the caller gets) between them leaves
    /// one change unannounced until the next edit. One more round trip per API edit was
    /// preferred to a transaction's three.
    static func bumpJobsChangeMarker(_ session: MongoSession) throws(DatabaseError) {
        _ = try session.update("meta", [["q": ["_id": "jobs"], "u": ["$inc": ["value": .int(1)]], "upsert": true]])
    }
}
