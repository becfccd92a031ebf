import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// The adapters the conformance suite runs against. Each case opens a fresh, private
/// store; `MongoDB` needs `SIMPLE_SCHEDULER_TEST_MONGODB_URL` (set by scripts/test).
enum Adapter: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    case mongodb

    var testDescription: String { rawValue }
}

/// One private store and a way to open further handles onto it (further processes, as far
/// as the adapter can tell), so races between instances are real races.
struct TestStore: Sendable {
    let adapter: Adapter
    let database: any Database
    let openAnother: @Sendable () async throws -> any Database
    /// Writes a job's lock field directly, as the original service might have left it.
    let overwriteLock: @Sendable (_ job: String, _ managerId: String?) async throws -> Void

    static func make(_ adapter: Adapter) async throws -> TestStore {
        let logger = Logger(label: "test")
        switch adapter {
        case .memory:
            let db = InMemoryDatabase()
            return TestStore(
                adapter: adapter, database: db, openAnother: { db },
                overwriteLock: { job, manager in db.overwriteLock(job: job, managerId: manager) })
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("ss-\(UUID().uuidString).db").path
            let db = SQLiteDatabase(path: path, logger: logger)
            try await db.prepare()
            return TestStore(
                adapter: adapter, database: db,
                openAnother: {
                    let other = SQLiteDatabase(path: path, logger: logger)
                    try await other.prepare()
                    return other
                },
                overwriteLock: { job, manager in
                    try await db.transaction { conn in
                        _ = try conn.query(
                            "UPDATE jobs SET managerId = ? WHERE name = ?", [SQLiteValue(manager), .text(job)])
                    }
                })
        case .mongodb:
            let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_MONGODB_URL")
            let name = "test_\(UUID().uuidString.prefix(8))"
            let db = try MongoDatabase(connectionString: url, databaseName: name, logger: logger)
            try await db.prepare()
            return TestStore(
                adapter: adapter, database: db,
                openAnother: {
                    let other = try MongoDatabase(connectionString: url, databaseName: name, logger: logger)
                    try await other.prepare()
                    return other
                },
                overwriteLock: { job, manager in try await db.overwriteLock(job: job, managerId: manager) })
        }
    }
}

