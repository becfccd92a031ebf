import ArgumentParser
import Foundation
import Testing

@testable import CLI

/// Every command and flag form of SPEC §9, parsed without running anything.
@Suite struct ParsingTests {
    private func parse<T>(_ arguments: [String], as type: T.Type = T.self) throws -> T {
        let command = try SimpleScheduler.parseAsRoot(arguments)
        return try #require(command as? T, "\(arguments) parsed as \(Swift.type(of: command))")
    }

    private func body(_ command: AddCommand.Job) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: command.body, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    @Test func addJobWithEveryFlagInShortForms() throws {
        let command: AddCommand.Job = try parse([
            "add", "job", "-n", "nightly", "-e", "false", "-r", "2030-01-01T02:00:00Z", "-i", "1h", "-x", "30m",
            "-s", "90s", "-q", "2", "-c", "true", "-t", "45000", "--catch-up-window", "1d", "--max-retries", "3",
            "--retry-delay", "250ms", "--timezone", "Europe/Berlin",
        ])
        #expect(try body(command) == #"{"allowConcurrentRuns":true,"catchUpWindow":86400000,"enabled":false,"heartbeatTimeout":45000,"interval":3600000,"maxQueueCount":2,"maxRetries":3,"name":"nightly","nextRunAt":"2030-01-01T02:00:00.000Z","retryDelay":250,"runExecutionTimeout":1800000,"runStartTimeout":90000,"timezone":"Europe/Berlin"}"#)
    }

    @Test func addJobWithLongFormsAndDefaults() throws {
        let command: AddCommand.Job = try parse([
            "add", "job", "--name", "c", "--cron", "*/5 * * * *", "--next-run-at=2030-01-01T00:00:00Z",
            "--interval=0", "--run-execution-timeout", "1h30m", "--run-start-timeout=10", "--max-queue-count=1",
            "--allow-concurrent-runs=false", "--heartbeat-timeout", "2m",
        ])
        let fields = command.body
        #expect(fields["enabled"] as? Bool == true)  // `add` defaults --enabled to true
        #expect(fields["cron"] as? String == "*/5 * * * *")
        #expect(fields["runExecutionTimeout"] as? Int == 5_400_000)
        #expect(fields["runStartTimeout"] as? Int == 10)
        #expect(fields["allowConcurrentRuns"] as? Bool == false)
        #expect(fields["heartbeatTimeout"] as? Int == 120_000)
        #expect(fields["interval"] as? Int == 0)
    }

    @Test(arguments: [["--enabled", "false"], ["--enabled=false"], ["-e", "false"], ["--enabled", "FALSE"]])
    func enabledTakesAValueInEveryForm(_ flag: [String]) throws {
        let command: UpdateCommand.Job = try parse(["update", "job", "x"] + flag)
        #expect(command.job.fields["enabled"] as? Bool == false)
        #expect(command.job.fields.count == 1)  // only the flags given are sent
    }

    @Test func updateJobTakesTheNameAsArgumentOrOption() throws {
        let positional: UpdateCommand.Job = try parse(["update", "job", "a", "-i", "5m"])
        #expect(positional.jobName == "a")
        let option: UpdateCommand.Job = try parse(["update", "job", "-n", "b", "--max-retries", "1"])
        #expect(option.jobName == "b")
        #expect(option.job.fields as NSDictionary == ["maxRetries": 1] as NSDictionary)
        #expect(throws: (any Error).self) { try SimpleScheduler.parseAsRoot(["update", "job", "--enabled", "true"]) }
        #expect(throws: (any Error).self) { try SimpleScheduler.parseAsRoot(["update", "job", "a"]) }
        #expect(throws: (any Error).self) { try SimpleScheduler.parseAsRoot(["update", "job", "a", "-n", "b", "-e", "true"]) }
    }

    @Test func globalOptionsAfterTheSubcommand() throws {
        let command: ListCommand.Runs = try parse([
            "list", "runs", "-j", "nightly", "-s", "failed", "--limit", "5", "-o", "json", "-u", "http://h:1/api",
            "--token", "ssk_x",
        ])
        #expect(command.job == "nightly" && command.status == "failed" && command.limit == 5)
        #expect(command.global.output == .json && command.global.url == "http://h:1/api" && command.global.token == "ssk_x")
        let jobs: ListCommand.Jobs = try parse(["list", "jobs", "--output", "table", "--url", "http://x/api"])
        #expect(jobs.global.output == .table)
    }

    @Test func getDeleteTriggerCancelStatusLoginLogout() throws {
        #expect(try parse(["get", "job", "a"], as: GetCommand.Job.self).name == "a")
        #expect(try parse(["get", "run", "0123456789abcdef01234567"], as: GetCommand.Run.self).id == "0123456789abcdef01234567")
        let schedule: GetCommand.Schedule = try parse(["get", "schedule", "a", "--count", "3"])
        #expect(schedule.name == "a" && schedule.count == 3)
        #expect(try parse(["delete", "job", "a"], as: DeleteCommand.Job.self).name == "a")
        #expect(try parse(["trigger", "job", "a"], as: TriggerCommand.Job.self).name == "a")
        #expect(try parse(["cancel", "run", "r1"], as: CancelCommand.Run.self).id == "r1")
        _ = try parse(["status", "-o", "json"], as: StatusCommand.self)
        _ = try parse(["logout"], as: LogoutCommand.self)
        let login: LoginCommand = try parse([
            "login", "--issuer", "http://kc/realms/r", "--client-id", "cli", "--client-secret", "s", "--callback-port", "6000",
        ])
        #expect(login.issuer == "http://kc/realms/r" && login.clientID == "cli" && login.clientSecret == "s")
        #expect(login.callbackPort == 6000)
        #expect(try parse(["login"], as: LoginCommand.self).callbackPort == 5556)
    }

    @Test(arguments: [
        ["add", "job", "-n", "x", "--enabled", "yes"], ["add", "job", "-n", "x", "-i", "5 minutes"],
        ["add", "job", "-n", "x", "-r", "tomorrow"], ["add", "job"], ["list", "runs", "-o", "yaml"],
        ["get", "job"], ["frobnicate"], ["add", "job", "-n", "x", "-q", "many"],
    ])
    func usageErrorsAreRefused(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try SimpleScheduler.parseAsRoot(arguments) }
    }

    @Test(arguments: [
        ("1500", 1500), ("0", 0), ("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000),
        ("1d", 86_400_000), ("1h30m", 5_400_000), ("2m500ms", 120_500),
    ])
    func durations(_ text: String, _ milliseconds: Int) {
        #expect(DurationValue(argument: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "-5", "5x", "m", "1.5s", "5 m", "h1"])
    func badDurations(_ text: String) {
        #expect(DurationValue(argument: text) == nil)
    }

    @Test func humanDurationsAndTimes() {
        #expect(HumanTime.duration(5_400_000) == "1h30m")
        #expect(HumanTime.duration(0) == "0")
        #expect(HumanTime.format("2030-01-01T00:00:00.000Z").hasPrefix("20"))
        #expect(HumanTime.format("not a time") == "not a time")
    }
}
