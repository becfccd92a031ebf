/// The document shapes of the original Go service's collections (SPEC §3, §4, §6), read
/// leniently: numbers as int32, int64 or whole doubles; unset times as absent, `null`
/// or the original's year-1 date; fields the original did not have take `Run`'s and
/// `Job`'s Codable defaults.
enum MongoDocuments {
    // MARK: Jobs

    /// A job's document; `managerId` and `heartbeat` are left out (a new job is unlocked).
    static func document(_ job: Job) -> BSONFields {
        [
            "_id": .string(job.name),
            "enabled": .bool(job.enabled),
            "nextRunAt": .date(job.nextRunAt),
            "interval": .int(job.interval),
            "cron": job.cron.map(BSON.string) ?? .null,
            "timezone": .string(job.timezone),
            "runExecutionTimeout": .int(job.runExecutionTimeout),
            "runStartTimeout": .int(job.runStartTimeout),
            "heartbeatTimeout": .int(job.heartbeatTimeout),
            "allowConcurrentRuns": .bool(job.allowConcurrentRuns),
            "maxQueueCount": .int(job.maxQueueCount),
            "catchUpWindow": .int(job.catchUpWindow),
            "maxRetries": .int(job.maxRetries),
            "retryDelay": .int(job.retryDelay),
        ]
    }

    /// The `$set` and `$unset` parts of `patch` (cleared nullables are stored as `null`,
    /// as a new job stores them); `nil` for an empty patch, which MongoDB would refuse.
    static func update(_ patch: JobPatch) -> BSONFields? {
        var set = BSONFields()
        if let enabled = patch.enabled { set["enabled"] = .bool(enabled) }
        if let nextRunAt = patch.nextRunAt { set["nextRunAt"] = .date(nextRunAt) }
        if let interval = patch.interval { set["interval"] = .int(interval) }
        if let cron = patch.cron { set["cron"] = cron.map(BSON.string) ?? .null }
        if let timezone = patch.timezone { set["timezone"] = .string(timezone) }
        if let v = patch.runExecutionTimeout { set["runExecutionTimeout"] = .int(v) }
        if let v = patch.runStartTimeout { set["runStartTimeout"] = .int(v) }
        if let v = patch.heartbeatTimeout { set["heartbeatTimeout"] = .int(v) }
        if let v = patch.allowConcurrentRuns { set["allowConcurrentRuns"] = .bool(v) }
        if let v = patch.maxQueueCount { set["maxQueueCount"] = .int(v) }
        if let v = patch.catchUpWindow { set["catchUpWindow"] = .int(v) }
        if let v = patch.maxRetries { set["maxRetries"] = .int(v) }
        if let v = patch.retryDelay { set["retryDelay"] = .int(v) }
        return set.isEmpty ? nil : ["$set": .document(set)]
    }

    static func job(_ d: BSONFields) throws(DatabaseError) -> Job {
        guard let name = d["_id"]?.stringValue else { throw DatabaseError.invalidDocument("job without a string _id") }
        let context = "job '\(name.prefix(64))'"
        return Job(
            name: name,
            enabled: try bool(d, "enabled", context) ?? true,
            nextRunAt: try time(d, "nextRunAt", context),
            interval: try int(d, "interval", context) ?? 0,
            cron: try string(d, "cron", context),
            timezone: try string(d, "timezone", context) ?? "UTC",
            runExecutionTimeout: try int(d, "runExecutionTimeout", context) ?? 0,
            runStartTimeout: try int(d, "runStartTimeout", context) ?? 0,
            heartbeatTimeout: try int(d, "heartbeatTimeout", context) ?? 0,
            allowConcurrentRuns: try bool(d, "allowConcurrentRuns", context) ?? false,
            maxQueueCount: try int(d, "maxQueueCount", context) ?? 0,
            catchUpWindow: try int(d, "catchUpWindow", context) ?? 0,
            maxRetries: try int(d, "maxRetries", context) ?? 0,
            retryDelay: try int(d, "retryDelay", context) ?? 0,
            managerId: try identifier(d, "managerId", context),
            heartbeat: try time(d, "heartbeat", context))
    }

    // MARK: Runs

    static func document(_ run: Run) -> BSONFields {
        [
            "_id": .objectID(run.id),
            "jobName": .string(run.jobName),
            "status": .string(run.status.rawValue),
            "createdTime": .date(run.createdTime),
            "startTime": .date(run.startTime),
            "endTime": .date(run.endTime),
            "heartbeat": .date(run.heartbeat),
            "trigger": .string(run.trigger.rawValue),
            "attempt": .int(run.attempt),
            "missedSlots": .int(run.missedSlots),
            "retryOf": run.retryOf.map(BSON.objectID) ?? .null,
            "statusTime": .date(run.statusTime),
            "published": .bool(run.published),
        ]
    }

    static func run(_ d: BSONFields) throws(DatabaseError) -> Run {
        guard let hex = d["_id"]?.objectIDHex, let id = try? RunID(validating: hex) else {
            throw DatabaseError.invalidDocument("run without an ObjectId _id")
        }
        let context = "run \(hex)"
        guard let jobName = try string(d, "jobName", context) else {
            throw DatabaseError.invalidDocument("\(context) has no jobName")
        }
        guard let statusText = try string(d, "status", context), let status = RunStatus(rawValue: statusText) else {
            throw DatabaseError.invalidDocument("\(context) has no known status")
        }
        guard let createdTime = try time(d, "createdTime", context) else {
            throw DatabaseError.invalidDocument("\(context) has no createdTime")
        }
        var trigger = RunTrigger.schedule
        if let text = try string(d, "trigger", context) {
            guard let value = RunTrigger(rawValue: text) else {
                throw DatabaseError.invalidDocument("\(context) has an unknown trigger '\(text.prefix(20))'")
            }
            trigger = value
        }
        var retryOf: RunID?
        if let text = try identifier(d, "retryOf", context) {
            guard let value = try? RunID(validating: text) else {
                throw DatabaseError.invalidDocument("\(context) has a malformed retryOf")
            }
            retryOf = value
        }
        return Run(
            id: id, jobName: jobName, status: status, createdTime: createdTime,
            startTime: try time(d, "startTime", context), endTime: try time(d, "endTime", context),
            heartbeat: try time(d, "heartbeat", context), trigger: trigger,
            attempt: try int(d, "attempt", context) ?? 1, missedSlots: try int(d, "missedSlots", context) ?? 0,
            retryOf: retryOf, statusTime: try time(d, "statusTime", context),
            // Documents of the original have no `published`: their actions were published
            // before any confirm was recorded, so the outbox may publish them once more.
            published: try bool(d, "published", context) ?? false)
    }

    // MARK: Managers

    static func manager(_ d: BSONFields) throws(DatabaseError) -> Manager {
        guard let id = try identifier(d, "_id", "manager") else {
            throw DatabaseError.invalidDocument("manager without an _id")
        }
        let context = "manager \(id)"
        return Manager(
            id: id, hostname: try string(d, "hostname", context) ?? "",
            heartbeat: try time(d, "heartbeat", context) ?? Timestamp(milliseconds: 0))
    }

    // MARK: Field readers (absent and null are nil; a wrong type is an invalid document)

    private static func int(_ d: BSONFields, _ key: String, _ context: String) throws(DatabaseError) -> Int? {
        guard let value = d[key], value != .null else { return nil }
        guard let int = value.intValue else {
            throw DatabaseError.invalidDocument("\(context): \(key) is not a number")
        }
        return int
    }

    private static func bool(_ d: BSONFields, _ key: String, _ context: String) throws(DatabaseError) -> Bool? {
        guard let value = d[key], value != .null else { return nil }
        guard let bool = value.boolValue else {
            throw DatabaseError.invalidDocument("\(context): \(key) is not a bool")
        }
        return bool
    }

    private static func string(_ d: BSONFields, _ key: String, _ context: String) throws(DatabaseError) -> String? {
        guard let value = d[key], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw DatabaseError.invalidDocument("\(context): \(key) is not a string")
        }
        return text
    }

    /// A time; the original's year-1 date counts as unset.
    private static func time(_ d: BSONFields, _ key: String, _ context: String) throws(DatabaseError) -> Timestamp? {
        guard let value = d[key], value != .null else { return nil }
        guard case .date(let ms) = value else {
            throw DatabaseError.invalidDocument("\(context): \(key) is not a date")
        }
        return ms <= BSON.zeroTimeMilliseconds ? nil : Timestamp(milliseconds: ms)
    }

    /// An ObjectId as its hex digits, or a string id as is.
    private static func identifier(_ d: BSONFields, _ key: String, _ context: String) throws(DatabaseError)
        -> String?
    {
        guard let value = d[key], value != .null else { return nil }
        if let hex = value.objectIDHex { return hex }
        if let text = value.stringValue { return text }
        throw DatabaseError.invalidDocument("\(context): \(key) is neither an ObjectId nor a string")
    }
}
