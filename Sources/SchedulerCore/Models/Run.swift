/// One execution of a job, or the recorded fate of slots that did not run (SPEC §3).
public struct Run: Hashable, Sendable {
    /// ObjectId-form id.
    public var id: RunID
    /// The job this run belongs to.
    public var jobName: String
    /// Where the run is in its life cycle.
    public var status: RunStatus
    /// The slot (scheduled runs), the trigger moment (manual) or the due moment (retries).
    public var createdTime: Timestamp
    /// When `running` first arrived.
    public var startTime: Timestamp?
    /// When a final status arrived.
    public var endTime: Timestamp?
    /// The last sign of life of a running run.
    public var heartbeat: Timestamp?
    /// What made the run exist.
    public var trigger: RunTrigger
    /// 1 + the number of heartbeat resets.
    public var attempt: Int
    /// How many slots the run or record stands for besides its own `createdTime`.
    public var missedSlots: Int
    /// The failed run this retry replaces.
    public var retryOf: RunID?
    /// When the run entered its current status; start and unanswered-cancel timeouts count from it.
    public var statusTime: Timestamp?
    /// The broker confirmed the action that the current status calls for (run for `pending`,
    /// cancel for `cancelling`). Runs without it form the publish outbox. Not part of the JSON.
    public var published: Bool

    /// Creates a run; the times a worker's messages set start out unset.
    public init(
        id: RunID = .generate(), jobName: String, status: RunStatus, createdTime: Timestamp,
        startTime: Timestamp? = nil, endTime: Timestamp? = nil, heartbeat: Timestamp? = nil,
        trigger: RunTrigger = .schedule, attempt: Int = 1, missedSlots: Int = 0, retryOf: RunID? = nil,
        statusTime: Timestamp? = nil, published: Bool = false
    ) {
        self.id = id
        self.jobName = jobName
        self.status = status
        self.createdTime = createdTime
        self.startTime = startTime
        self.endTime = endTime
        self.heartbeat = heartbeat
        self.trigger = trigger
        self.attempt = attempt
        self.missedSlots = missedSlots
        self.retryOf = retryOf
        self.statusTime = statusTime
        self.published = published
    }

    /// Scheduled runs, `skipped` and `missed` records are unique per (jobName, createdTime):
    /// each slot has exactly one fate. Manual runs and retries never collide with a slot.
    public var occupiesSlot: Bool { trigger == .schedule }
}

extension Run: Codable {
    enum CodingKeys: String, CodingKey {
        case id, jobName, status, createdTime, startTime, endTime, heartbeat, trigger, attempt, missedSlots,
            retryOf, statusTime
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(RunID.self, forKey: .id)
        jobName = try c.decode(String.self, forKey: .jobName)
        status = try c.decode(RunStatus.self, forKey: .status)
        guard let created = try c.decodeTime(.createdTime) else {
            throw DecodingError.dataCorruptedError(
                forKey: .createdTime, in: c, debugDescription: "createdTime must be set")
        }
        createdTime = created
        startTime = try c.decodeTime(.startTime)
        endTime = try c.decodeTime(.endTime)
        heartbeat = try c.decodeTime(.heartbeat)
        trigger = try c.decodeIfPresent(RunTrigger.self, forKey: .trigger) ?? .schedule
        attempt = try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 1
        missedSlots = try c.decodeIfPresent(Int.self, forKey: .missedSlots) ?? 0
        retryOf = try c.decodeIfPresent(RunID.self, forKey: .retryOf)
        statusTime = try c.decodeTime(.statusTime)
        published = false
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(jobName, forKey: .jobName)
        try c.encode(status, forKey: .status)
        try c.encodeTime(createdTime, .createdTime)
        try c.encodeTime(startTime, .startTime)
        try c.encodeTime(endTime, .endTime)
        try c.encodeTime(heartbeat, .heartbeat)
        try c.encode(trigger, forKey: .trigger)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(missedSlots, forKey: .missedSlots)
        try c.encode(retryOf, forKey: .retryOf)
        try c.encodeTime(statusTime, .statusTime)
    }
}

extension KeyedDecodingContainer {
    /// Reads an optional RFC 3339 time; absent, `null` and the original's zero time all mean unset.
    func decodeTime(_ key: Key) throws -> Timestamp? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        do { return try RFC3339.parse(text) } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: error.description)
        }
    }
}

extension KeyedEncodingContainer {
    /// Writes an RFC 3339 time with milliseconds, or `null` when unset (never omitted).
    mutating func encodeTime(_ time: Timestamp?, _ key: Key) throws {
        if let time { try encode(RFC3339.format(time), forKey: key) } else { try encodeNil(forKey: key) }
    }
}
