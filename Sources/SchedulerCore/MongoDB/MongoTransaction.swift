internal import CMongoC
import Foundation

/// One attempt at a multi-document transaction on a libmongoc client session: the session
/// handle the session's operations append to their options, and whether a failure inside
/// it was transient (the whole transaction may be run again).
///
/// Not `Sendable`: it lives within one operation on one executor thread, like its client.
final class MongoTransaction {
    /// The `mongoc_client_session_t *`; owned by `MongoSession.inTransaction`.
    let session: OpaquePointer
    /// A failure the server labelled `TransientTransactionError` (a write conflict, an
    /// aborted or unknown transaction, a network error), or one the caller marked so.
    private(set) var isTransient = false

    /// The server's code for a write conflict between transactions.
    static let writeConflict = 112

    init(session: OpaquePointer) {
        self.session = session
    }

    /// Adds the session (and so the transaction) to an operation's options.
    func append(to options: BSONDocument, operation: String) throws(DatabaseError) {
        var error = bson_error_t()
        guard mongoc_client_session_append(session, options.pointer, &error) else {
            throw MongoError.map(error, operation: operation)
        }
    }

    /// Reads a failed operation's reply for the labels that allow a retry.
    func noteFailure(reply: OpaquePointer, error: bson_error_t) {
        if mongoc_error_has_label(reply, "TransientTransactionError") || error.code == UInt32(Self.writeConflict) {
            isTransient = true
        }
    }

    /// Marks a failure the caller found in an `ok: 1` reply (a write error that aborted the
    /// transaction on the server) as one the whole transaction may be retried after.
    func markTransient() {
        isTransient = true
    }
}

extension MongoSession {
    /// Runs `body` in a multi-document transaction and commits it; every command and find
    /// `body` makes through the session it is given is part of the transaction.
    ///
    /// A transient failure (a write conflict with another writer, mostly) aborts and runs
    /// `body` again from the start, `attempts` times in all, then throws `.unavailable`.
    /// Any other error aborts and is rethrown. `body` must therefore make no decision
    /// outside what it reads in the transaction, and keep no state across attempts.
    ///
    /// `announce` is given the server session's id (`lsid.id`, a UUID) before the first
    /// attempt, outside the transaction, so that whoever finds this process dead can end a
    /// transaction it left open (see `MongoDatabase.announce`).
    func inTransaction<T>(
        attempts: Int, announce: (MongoSession, BSON) throws(DatabaseError) -> Void = { _, _ in },
        _ body: (MongoSession) throws(DatabaseError) -> T
    ) throws(DatabaseError) -> T {
        var error = bson_error_t()
        guard let handle = mongoc_client_start_session(client, nil, &error) else {
            throw MongoError.map(error, operation: "start session")
        }
        // Returns the server session to the client's pool (aborting a transaction still open).
        defer { mongoc_client_session_destroy(handle) }
        guard let lsid = mongoc_client_session_get_lsid(handle), let id = try BSONReader.fields(of: lsid)["id"]
        else { throw DatabaseError.invalidDocument("a client session without an id") }
        try announce(self, id)
        var last = DatabaseError.unavailable("no transaction attempt")
        for attempt in 0..<max(attempts, 1) {
            if attempt > 0 {
                // The winner of a conflict may not have committed yet: running again at once
                // would read the same snapshot and conflict again. This is an executor
                // thread, where blocking is what it is for.
                Thread.sleep(forTimeInterval: Double(attempt) * Double.random(in: 0.005...0.02))
            }
            let transaction = MongoTransaction(session: handle)
            guard mongoc_client_session_start_transaction(handle, nil, &error) else {
                throw MongoError.map(error, operation: "start transaction")
            }
            var inner = self
            inner.transaction = transaction
            do {
                let value = try body(inner)
                try commit(transaction)
                return value
            } catch {
                abortIfOpen(handle)
                guard transaction.isTransient else { throw error }
                last = error
            }
        }
        throw DatabaseError.unavailable("transaction failed \(attempts) times on conflicts: \(last.message)")
    }

    /// Commits; an unknown commit result (the reply was lost) is retried as the driver
    /// specification allows, since committing twice is harmless and guessing is not.
    private func commit(_ transaction: MongoTransaction) throws(DatabaseError) {
        var error = bson_error_t()
        for attempt in 1...Self.commitAttempts {
            let reply = BSONDocument(reply: ())
            statistics.recordRoundTrip()
            if mongoc_client_session_commit_transaction(transaction.session, reply.pointer, &error) { return }
            let unknown = mongoc_error_has_label(reply.pointer, "UnknownTransactionCommitResult")
            guard unknown, attempt < Self.commitAttempts else {
                transaction.noteFailure(reply: reply.pointer, error: error)
                throw MongoError.map(error, operation: "commit transaction")
            }
        }
    }

    /// Aborts a transaction the server knows of; one that never sent an operation, or one
    /// the server already aborted, ends on the client alone.
    private func abortIfOpen(_ handle: OpaquePointer) {
        let state = mongoc_client_session_get_transaction_state(handle)
        guard state == MONGOC_TRANSACTION_STARTING || state == MONGOC_TRANSACTION_IN_PROGRESS else { return }
        if state == MONGOC_TRANSACTION_IN_PROGRESS { statistics.recordRoundTrip() }
        var error = bson_error_t()
        // A failed abort leaves the transaction to the server's timeout; nothing to report.
        _ = mongoc_client_session_abort_transaction(handle, &error)
    }

    /// Commit attempts while the result stays unknown.
    private static let commitAttempts = 3
}
