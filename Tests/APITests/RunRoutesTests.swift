import Foundation
import SchedulerCore
import Testing

@testable import API

@Suite struct RunRoutesTests {
    /// Inserts runs of `job` one second apart, oldest first.
    private func insert(_ api: APIHarness, _ job: String, statuses: [RunStatus], trigger: RunTrigger = .schedule) async throws -> [Run] {
        let runs = statuses.enumerated().map { index, status in
            Run(jobName: job, status: status, createdTime: Timestamp(milliseconds: 1_800_000_000_000 + Int64(index) * 1000),
                trigger: trigger)
        }
        _ = try await api.database.insertRuns(runs)
        return runs
    }

    @Test func listsNewestFirstWithFiltersInBothSpellingsAndPages() async throws {
        let api = APIHarness()
        let runs = try await insert(api, "a", statuses: [.completed, .failed, .pending, .running])
        _ = try await insert(api, "b", statuses: [.completed], trigger: .manual)
        let all = await api.send("GET", "/api/runs")
        #expect(all.status == 200)
        #expect(all.array.count == 5)
        let ofA = await api.send("GET", "/api/runs?jobName=a")
        #expect(ofA.array.map { $0["id"] as? String } == runs.reversed().map(\.id.hex))
        #expect(await api.send("GET", "/api/runs?JobName=a").array.count == 4)
        #expect(await api.send("GET", "/api/runs?status=completed").array.count == 2)
        #expect(await api.send("GET", "/api/runs?Status=completed,failed&jobName=a").array.count == 2)
        #expect(await api.send("GET", "/api/runs?trigger=manual").array.map { $0["jobName"] as? String } == ["b"])
        // Strict: the run created exactly at the bound is not included.
        let before = await api.send("GET", "/api/runs?jobName=a&createdBefore=\(RFC3339.format(runs[2].createdTime))")
        #expect(before.array.map { $0["id"] as? String } == [runs[1].id.hex, runs[0].id.hex])
        #expect(await api.send("GET", "/api/runs?CreatedBefore=\(RFC3339.format(runs[1].createdTime))&JobName=a").array.count == 1)

        var seen: [String] = []
        var target: String? = "/api/runs?jobName=a&limit=3"
        while let next = target {
            let page = await api.send("GET", next)
            seen += page.array.compactMap { $0["id"] as? String }
            target = page.header("Link").map { String($0.dropFirst().prefix { $0 != ">" }) }
            if let target { #expect(target.contains("jobName=a") && target.contains("limit=3")) }
        }
        #expect(seen == runs.reversed().map(\.id.hex))
    }

    @Test(arguments: [
        "/api/runs?status=done", "/api/runs?trigger=cron", "/api/runs?createdBefore=yesterday", "/api/runs?limit=5000",
        "/api/runs?after=zzz", "/api/runs?jobname=a",
    ])
    func badRunFiltersAre400(target: String) async {
        let reply = await APIHarness().send("GET", target)
        #expect(reply.status == 400)
        #expect(reply.error != nil)
    }

    @Test func readsOneRunAndRefusesMalformedIDs() async throws {
        let api = APIHarness()
        let run = try await insert(api, "a", statuses: [.running])[0]
        let reply = await api.send("GET", "/api/runs/\(run.id.hex)")
        #expect(reply.status == 200)
        #expect(reply.object["status"] as? String == "running")
        #expect(reply.object["jobName"] as? String == "a")
        let malformed = await api.send("GET", "/api/runs/not-an-id")
        #expect(malformed.status == 400)
        #expect(malformed.error?.contains("is not a run id") == true)
        #expect(await api.send("GET", "/api/runs/\(RunID.generate().hex)").status == 404)
    }

    @Test func cancellingAnActiveRunPublishesACancelAction() async throws {
        let api = APIHarness()
        let runs = try await insert(api, "c", statuses: [.pending, .running])
        for run in runs {
            let reply = await api.send("POST", "/api/runs/\(run.id.hex)/cancel")
            #expect(reply.status == 204)
            #expect(try await api.database.run(id: run.id)?.status == .cancelling)
        }
        #expect(api.bus.depth(of: "scheduler.job.c.action") == 2)
        // Sent, so the outbox does not send it again.
        #expect(try await api.database.unpublishedRuns(jobNames: ["c"]).isEmpty)
        // Asking again changes nothing and publishes nothing.
        #expect(await api.send("POST", "/api/runs/\(runs[0].id.hex)/cancel").status == 204)
        #expect(api.bus.depth(of: "scheduler.job.c.action") == 2)
    }

    @Test func cancelAnswersEachStatusAsTheSpecSays() async throws {
        let api = APIHarness()
        let runs = try await insert(api, "q", statuses: [.queued, .cancelled, .completed, .failed, .skipped, .missed])
        #expect(await api.send("GET", "/api/runs/\(runs[0].id.hex)/cancel").status == 204)  // the original's GET
        #expect(try await api.database.run(id: runs[0].id)?.status == .cancelled)
        #expect(api.bus.publishedCount == 0)  // no worker ever saw a queued run
        #expect(await api.send("POST", "/api/runs/\(runs[1].id.hex)/cancel").status == 204)
        for run in runs[2...] {
            let reply = await api.send("POST", "/api/runs/\(run.id.hex)/cancel")
            #expect(reply.status == 400)
            #expect(reply.text == #"{"error":"Run already finished"}"#)
        }
        #expect(await api.send("POST", "/api/runs/\(RunID.generate().hex)/cancel").status == 404)
        #expect(await api.send("POST", "/api/runs/xyz/cancel").status == 400)
    }

    @Test func aCancelTheBrokerDidNotTakeStaysInTheOutbox() async throws {
        let api = APIHarness()
        let run = try await insert(api, "o", statuses: [.running])[0]
        api.bus.setConnected(false)
        #expect(await api.send("POST", "/api/runs/\(run.id.hex)/cancel").status == 204)
        #expect(try await api.database.run(id: run.id)?.status == .cancelling)
        #expect(try await api.database.unpublishedRuns(jobNames: ["o"]).map(\.id) == [run.id])
    }

    @Test func anUnreachableDatabaseIs503() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A directory where the database file should be: every open fails.
        let database = SQLiteDatabase(path: directory.path, logger: .init(label: "test"))
        let api = APIHarness(database: database)
        let reply = await api.send("GET", "/api/jobs/x")
        #expect(reply.status == 503, "\(reply.text)")
        #expect(reply.error?.contains("database is unavailable") == true)
    }
}
