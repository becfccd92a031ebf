import ArgumentParser

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Lists jobs or runs.", subcommands: [Jobs.self, Runs.self])

    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists jobs by name.")

        @Option(help: "Jobs per page, 1–1000.")
        var limit: Int?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.client().send("GET", "jobs", query: limit.map { [("limit", String($0))] } ?? [])
            try Printer(format: global.output).print(response) { json in
                table(["NAME", "ENABLED", "SCHEDULE", "NEXT RUN", "LOCKED BY"], (json as? [[String: Any]] ?? []).map { job in
                    [cell(job["name"]), cell(job["enabled"]), scheduleText(job), cell(job["nextRunAt"], time: true),
                     cell(job["managerId"])]
                })
            }
        }
    }

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists runs, newest first.")

        @Option(name: [.short, .customLong("job")], help: "Only runs of this job.")
        var job: String?

        @Option(name: [.short, .long], help: "Only runs with this status (or several, comma-separated).")
        var status: String?

        @Option(help: "Runs to show, 1–1000 (the API's default: 100).")
        var limit: Int?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            var query: [(String, String)] = []
            if let job { query.append(("jobName", job)) }
            if let status { query.append(("status", status)) }
            if let limit { query.append(("limit", String(limit))) }
            let response = try await global.client().send("GET", "runs", query: query)
            try Printer(format: global.output).print(response) { json in
                table(["ID", "JOB", "STATUS", "TRIGGER", "CREATED", "STARTED", "ENDED", "ATTEMPT"],
                      (json as? [[String: Any]] ?? []).map { run in
                    [cell(run["id"]), cell(run["jobName"]), cell(run["status"]), cell(run["trigger"]),
                     cell(run["createdTime"], time: true), cell(run["startTime"], time: true),
                     cell(run["endTime"], time: true), cell(run["attempt"])]
                })
            }
        }
    }
}

/// `every 1m`, `cron */5 * * * * (UTC)` or `once`.
func scheduleText(_ job: [String: Any]) -> String {
    if let cron = job["cron"] as? String { return "cron \(cron) (\(job["timezone"] as? String ?? "UTC"))" }
    if let interval = job["interval"] as? Int, interval > 0 { return "every \(HumanTime.duration(interval))" }
    return "once"
}
