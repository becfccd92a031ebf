/// Compare-and-set run transitions as one `update` command per batch.
///
/// Each statement's filter is the CAS condition (`_id`, `status: from`, `attempt`), so
/// the server applies it atomically or not at all. The reply only says how many
/// statements matched (`n`), not which, so each statement also sets `transitionId` to
/// a fresh ObjectId token of its own:
/// - all matched (the common case): every transition applied, one round trip;
/// - otherwise one `find` of the ids reads the tokens: a document carrying this
///   statement's token applied it, a missing document is `.notFound`, any other is a
///   `.conflict`. The one uncertain case is a transition that applied and was then
///   overwritten by another writer's transition between the two requests; it reads as
///   a `.conflict`, which the scheduler treats as "someone else moved the run" and
///   re-reads — the same as if it had lost the race, and never a double application.
///
/// We chose this over one `findAndModify` per transition after a partial batch because
/// the batch's matched statements cannot be re-run (their CAS no longer holds), so
/// they could not be told apart from conflicts afterwards without a marker anyway.
/// Transitions of the same run within one batch go into successive rounds (one
/// `update` each, in batch order), so each round names a run at most once and the
/// run's token tells exactly one statement's fate, as the in-memory adapter applies
/// them in order.
struct MongoTransitionBatch {
    let transitions: [RunTransition]

    /// The field each statement stamps with its token (ignored by readers written for
    /// the original, which ignore unknown fields).
    static let tokenField = "transitionId"

    func apply(_ session: MongoSession) throws(DatabaseError) -> [TransitionOutcome] {
        var outcomes = [TransitionOutcome](repeating: .conflict, count: transitions.count)
        for round in rounds() {
            let tokens = round.map { _ in RunID.generate() }
            let statements = zip(round, tokens).map { Self.statement(transitions[$0], token: $1) }
            let reply = try session.update("runs", statements, ordered: false)
            let matched = reply["n"]?.intValue ?? 0
            session.statistics.recordWrites(matched)
            if matched == round.count {
                for index in round { outcomes[index] = .applied }
                continue
            }
            let ids = round.map { BSON.objectID(transitions[$0].id) }
            let documents = try session.find(
                "runs", ["_id": ["$in": .array(ids)]], options: ["projection": ["_id": 1, .init(Self.tokenField): 1]])
            var tokenByRun: [String: BSON] = [:]
            for document in documents {
                guard let hex = document["_id"]?.objectIDHex else { continue }
                tokenByRun[hex] = document[Self.tokenField] ?? .null
            }
            for (index, token) in zip(round, tokens) {
                switch tokenByRun[transitions[index].id.hex] {
                case nil: outcomes[index] = .notFound
                case .objectID(token.bytes)?: outcomes[index] = .applied
                default: outcomes[index] = .conflict
                }
            }
        }
        return outcomes
    }

    /// Indices of `transitions` grouped so that each run appears at most once per round,
    /// keeping batch order for transitions of one run.
    private func rounds() -> [[Int]] {
        var rounds: [[Int]] = []
        var seen: [RunID: Int] = [:]
        for (index, transition) in transitions.enumerated() {
            let round = seen[transition.id, default: 0]
            seen[transition.id] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(index)
        }
        return rounds
    }

    /// The `update` statement of one transition: the CAS filter and `transition.changes`.
    static func statement(_ transition: RunTransition, token: RunID) -> BSONFields {
        var filter: BSONFields = ["_id": .objectID(transition.id), "status": .string(transition.from.rawValue)]
        if let attempt = transition.attempt {
            // Documents of the original have no attempt: they are at their first.
            filter["attempt"] = attempt == 1 ? ["$in": [1, nil]] : .int(attempt)
        }
        let changes = transition.changes
        var set: BSONFields = [.init(tokenField): .objectID(token)]
        if let status = changes.status { set["status"] = .string(status.rawValue) }
        if let startTime = changes.startTime { set["startTime"] = .date(startTime) }
        if let endTime = changes.endTime { set["endTime"] = .date(endTime) }
        if changes.clearHeartbeat { set["heartbeat"] = .null }
        if let statusTime = changes.statusTime { set["statusTime"] = .date(statusTime) }
        if let published = changes.published { set["published"] = .bool(published) }
        var update: BSONFields = ["$set": .document(set)]
        // Heartbeats only move forward: messages may arrive out of order.
        if let heartbeat = changes.heartbeat { update["$max"] = ["heartbeat": .date(heartbeat)] }
        if changes.incrementAttempt {
            if let attempt = transition.attempt {
                // The filter pinned the attempt: setting it also fixes documents without one.
                set["attempt"] = .int(attempt + 1)
                update["$set"] = .document(set)
            } else {
                update["$inc"] = ["attempt": 1]
            }
        }
        return ["q": .document(filter), "u": .document(update)]
    }
}
