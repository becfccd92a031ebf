import Foundation
import SchedulerCore
import Testing

@testable import API

@Suite struct JobRoutesTests {
    @Test func statusNeedsNoToken() async {
        let reply = await APIHarness().send("GET", "/api/status", token: nil)
        #expect(reply.status == 200)
        #expect(reply.text == #"{"status":"OK"}"#)
    }

    @Test func createReadListAndPageJobs() async throws {
        let api = APIHarness()
        let empty = await api.send("GET", "/api/jobs")
        #expect(empty.status == 200)
        #expect(empty.text == "[]")
        for name in ["c", "a", "b"] {
            let created = await api.send(
                "POST", "/api/jobs", #"{"name":"\#(name)","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","interval":60000}"#)
            #expect(created.status == 201)
            #expect(created.text == #"{"name":"\#(name)"}"#)
        }
        let job = await api.send("GET", "/api/jobs/a")
        #expect(job.status == 200)
        #expect(job.object["interval"] as? Int == 60000)
        #expect(job.object["nextRunAt"] as? String == "2030-01-01T00:00:00.000Z")
        #expect(job.object["timezone"] as? String == "UTC")

        let first = await api.send("GET", "/api/jobs?limit=2")
        #expect(first.array.map { $0["name"] as? String } == ["a", "b"])
        let link = try #require(first.header("Link"))
        #expect(link.hasPrefix("</api/jobs?limit=2&after=") && link.hasSuffix(#">; rel="next""#))
        let next = String(link.dropFirst().prefix { $0 != ">" })
        let second = await api.send("GET", next)
        #expect(second.array.map { $0["name"] as? String } == ["c"])
        #expect(second.header("Link") == nil)
    }

    @Test(arguments: [
        ("/api/jobs?limit=0", "limit must be a whole number from 1 to 1000"),
        ("/api/jobs?limit=1001", "limit must be"),
        ("/api/jobs?limit=ten", "limit must be"),
        ("/api/jobs?after=%%%", "malformed %-escape"),
        ("/api/jobs?after=bm90IGEgY3Vyc29y!", "not a cursor"),
        ("/api/jobs?page=2", "unknown query parameter 'page'"),
    ])
    func badListParametersAre400(target: String, message: String) async {
        let reply = await APIHarness().send("GET", target)
        #expect(reply.status == 400)
        #expect(reply.error?.contains(message) == true, "\(reply.text)")
    }

    @Test func unknownJobIs404() async {
        let api = APIHarness()
        for (method, target, body) in [
            ("GET", "/api/jobs/nope", nil), ("PATCH", "/api/jobs/nope", #"{"enabled":false}"#),
            ("DELETE", "/api/jobs/nope", nil), ("POST", "/api/jobs/nope/runs", nil), ("GET", "/api/jobs/nope/schedule", nil),
        ] {
            let reply = await api.send(method, target, body)
            #expect(reply.status == 404, "\(method) \(target)")
            #expect(reply.error == "no job named 'nope'")
        }
    }

    @Test(arguments: [
        (#"{"enabled":true,"nextRunAt":"2030-01-01T00:00:00Z"}"#, "'name' is required"),
        (#"{"name":"x","nextRunAt":"2030-01-01T00:00:00Z"}"#, "'enabled' is required"),
        (#"{"name":"x","enabled":true}"#, "'nextRunAt' is required"),
        (#"{"name":"x","enabled":true,"nextRunAt":null}"#, "'nextRunAt' is required"),
        (#"{"name":"bad name","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z"}"#, "name must be 1-200 characters"),
        (#"{"name":"x","enabled":"yes","nextRunAt":"2030-01-01T00:00:00Z"}"#, "'enabled' must be true or false, not a string"),
        (#"{"name":"x","enabled":true,"nextRunAt":"tomorrow"}"#, "'nextRunAt': 'tomorrow' is not an RFC 3339 time"),
        (#"{"name":"x","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","interval":1.5}"#, "'interval' must be a whole number"),
        (#"{"name":"x","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","interval":-5}"#, "interval must be between 0"),
        (#"{"name":"x","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","intervall":5}"#, "unknown field 'intervall'"),
        (#"{"name":"x","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","timezone":"Mars/Base"}"#, "timezone must be an IANA zone"),
        (#"{"name":"x","enabled":true,"cron":"* * * * *","interval":5}"#, "interval must be 0 when cron is set"),
        (#"{"name":"x","enabled":true,"#, "not valid JSON"),
        (#"[1,2]"#, "must be a JSON object, not an array"),
        ("", "the request body is empty"),
    ])
    func invalidJobsAre400WithAMessage(body: String, message: String) async {
        let reply = await APIHarness().send("POST", "/api/jobs", body)
        #expect(reply.status == 400)
        #expect(reply.error?.contains(message) == true, "\(reply.text)")
    }

    @Test func aWholeNumberWrittenWithAFractionIsAnInteger() async {
        // JSON Schema's integer includes 60000.0 (schemathesis sends such numbers).
        let api = APIHarness()
        let reply = await api.send(
            "POST", "/api/jobs", #"{"name":"x","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z","interval":60000.0,"maxRetries":2.0}"#)
        #expect(reply.status == 201, "\(reply.text)")
        #expect(await api.send("GET", "/api/jobs/x").text.contains(#""interval":60000"#))
    }

    @Test func duplicateNameIs409AndAJobReadWithGetCanBePostedBack() async {
        let api = APIHarness()
        await api.createJob("dup")
        let again = await api.send("POST", "/api/jobs", #"{"name":"dup","enabled":false,"nextRunAt":"2030-01-01T00:00:00Z"}"#)
        #expect(again.status == 409)
        #expect(again.error == "a job named 'dup' exists already")
        let read = await api.send("GET", "/api/jobs/dup")
        #expect(await api.send("DELETE", "/api/jobs/dup").status == 204)
        #expect(await api.send("POST", "/api/jobs", read.text).status == 201)  // managerId and heartbeat are ignored
    }

    @Test func disabledJobsAreAcceptedOnCreate() async throws {
        let api = APIHarness()
        let reply = await api.send("POST", "/api/jobs", #"{"name":"off","enabled":false,"nextRunAt":"2030-01-01T00:00:00Z"}"#)
        #expect(reply.status == 201)
        #expect(try await api.database.job(named: "off")?.enabled == false)
    }

    @Test func patchChangesOnlyTheGivenFields() async throws {
        let api = APIHarness()
        await api.createJob("p", extra: #","maxRetries":2"#)
        let reply = await api.send("PATCH", "/api/jobs/p", #"{"enabled":false,"interval":30000,"managerId":"ignored"}"#)
        #expect(reply.status == 204)
        #expect(reply.text.isEmpty)
        let job = try #require(try await api.database.job(named: "p"))
        #expect(job.enabled == false && job.interval == 30000 && job.maxRetries == 2)
        #expect(job.nextRunAt == Timestamp(milliseconds: 1_893_456_000_000))
    }

    @Test(arguments: [
        (#"{"name":"q"}"#, "'name' cannot be changed"),
        (#"{"interval":-1}"#, "interval must be between 0"),
        (#"{"cron":"* * * * *"}"#, "interval must be 0 when cron is set"),
        (#"{"color":"red"}"#, "unknown field 'color'"),
        (#"{"enabled":1}"#, "'enabled' must be true or false, not a number"),
        (#"not json"#, "not valid JSON"),
    ])
    func invalidPatchesAre400(body: String, message: String) async {
        let api = APIHarness()
        await api.createJob("p")
        let reply = await api.send("PATCH", "/api/jobs/p", body)
        #expect(reply.status == 400)
        #expect(reply.error?.contains(message) == true, "\(reply.text)")
    }

    @Test func deleteRemovesTheJob() async throws {
        let api = APIHarness()
        await api.createJob("d")
        #expect(await api.send("DELETE", "/api/jobs/d").status == 204)
        #expect(try await api.database.job(named: "d") == nil)
        #expect(await api.send("DELETE", "/api/jobs/d").status == 404)
    }

    @Test func manualTriggerInsertsAQueuedManualRunAndRefusesDisabledJobs() async throws {
        let api = APIHarness()
        await api.createJob("t")
        let reply = await api.send("POST", "/api/jobs/t/runs")
        #expect(reply.status == 201)
        let id = try RunID(validating: try #require(reply.object["id"] as? String))
        let run = try #require(try await api.database.run(id: id))
        #expect(run.status == .queued && run.trigger == .manual && run.jobName == "t")
        _ = await api.send("PATCH", "/api/jobs/t", #"{"enabled":false}"#)
        let refused = await api.send("POST", "/api/jobs/t/runs")
        #expect(refused.status == 409)
        #expect(refused.error?.contains("disabled") == true)
    }

    @Test func scheduleListsTheNextInstants() async {
        let api = APIHarness()
        await api.createJob("s")
        let reply = await api.send("GET", "/api/jobs/s/schedule?count=3")
        #expect(reply.status == 200)
        #expect(reply.text == #"{"next":["2030-01-01T00:00:00.000Z","2030-01-01T00:01:00.000Z","2030-01-01T00:02:00.000Z"]}"#)
        #expect((await api.send("GET", "/api/jobs/s/schedule")).object["next"].map { ($0 as! [Any]).count } == 10)
        await api.send("POST", "/api/jobs", #"{"name":"once","enabled":true,"nextRunAt":"2030-01-01T00:00:00Z"}"#)
        #expect(await api.send("GET", "/api/jobs/once/schedule").text == #"{"next":["2030-01-01T00:00:00.000Z"]}"#)
        for bad in ["0", "1001", "x"] {
            #expect(await api.send("GET", "/api/jobs/s/schedule?count=\(bad)").status == 400)
        }
    }

    @Test func authenticationAndScopes() async {
        let api = APIHarness()
        let anonymous = await api.send("GET", "/api/jobs", token: nil)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(anonymous.error != nil)
        let wrongKey = await api.send("GET", "/api/jobs", token: "ssk_wrong")
        #expect(wrongKey.status == 401)
        #expect(wrongKey.error == "the API key is not valid")
        let notJWT = await api.send("GET", "/api/jobs", token: "eyJhbGciOi.x.y")
        #expect(notJWT.status == 401)
        #expect(await api.send("GET", "/api/jobs", token: APIHarness.reader).status == 200)
        let underScoped = await api.send("POST", "/api/jobs", #"{}"#, token: APIHarness.reader)
        #expect(underScoped.status == 403)
        #expect(underScoped.text == #"{"error":"Missing required scopes","missing_scopes":["jobs:write"]}"#)
    }

    @Test func unknownRoutesAre404AndOtherMethodsAre405() async {
        let api = APIHarness()
        let missing = await api.send("GET", "/api/nothing")
        #expect(missing.status == 404)
        #expect(missing.error != nil)
        let wrong = await api.send("PUT", "/api/jobs/x")
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "DELETE, GET, HEAD, PATCH")
        #expect(wrong.error != nil)
    }
}

@Suite struct CronRoutesTests {
    @Test func aCronJobGetsItsFirstFireAndItsScheduleFromTheExpression() async throws {
        let api = APIHarness()
        let created = await api.send(
            "POST", "/api/jobs",
            #"{"name":"berlin","enabled":true,"cron":"30 2 * * *","timezone":"Europe/Berlin","nextRunAt":"2025-03-29T12:00:00Z"}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(try await api.database.job(named: "berlin")?.nextRunAt == (try RFC3339.parse("2025-03-30T01:00:00Z")))
        let schedule = await api.send("GET", "/api/jobs/berlin/schedule?count=3")
        #expect(schedule.text == #"{"next":["2025-03-30T01:00:00.000Z","2025-03-31T00:30:00.000Z","2025-04-01T00:30:00.000Z"]}"#)

        // Without nextRunAt the first fire is the next instant from now.
        #expect(await api.send("POST", "/api/jobs", #"{"name":"soon","enabled":true,"cron":"@hourly"}"#).status == 201)
        let soon = try #require(try await api.database.job(named: "soon")?.nextRunAt)
        #expect(soon > .now && soon.milliseconds % 3_600_000 == 0)

        // A new expression moves the next fire.
        #expect(await api.send("PATCH", "/api/jobs/berlin", #"{"cron":"0 12 * * *","nextRunAt":"2025-06-01T00:00:00Z"}"#).status == 204)
        #expect(try await api.database.job(named: "berlin")?.nextRunAt == (try RFC3339.parse("2025-06-01T10:00:00Z")))
        // From cron back to an interval.
        #expect(await api.send("PATCH", "/api/jobs/berlin", #"{"cron":null,"interval":60000}"#).status == 204)
        #expect(try await api.database.job(named: "berlin")?.scheduleKind == .interval)
    }

    @Test(arguments: [
        (#"{"name":"x","enabled":true,"cron":"61 * * * *"}"#, "cron field 1 (minute) '61'"),
        (#"{"name":"x","enabled":true,"cron":"0 0 30 2 *"}"#, "never fires"),
        (#"{"name":"x","enabled":true,"cron":"@daily","timezone":"Mars/Olympus"}"#, "timezone must be an IANA zone"),
        (#"{"name":"x","enabled":true,"cron":"* * *"}"#, "5 fields"),
    ])
    func badCronIs400NamingTheField(_ body: String, _ message: String) async {
        let reply = await APIHarness().send("POST", "/api/jobs", body)
        #expect(reply.status == 400)
        #expect(reply.error?.contains(message) == true, "\(reply.text)")
    }
}
