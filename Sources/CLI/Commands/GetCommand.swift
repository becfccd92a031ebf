import ArgumentParser

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Shows a job, a run, or a job's next fire times.",
        subcommands: [Job.self, Run.self, Schedule.self])

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows a job.")

        @Argument(help: "The job's name.")
        var name: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.client().send("GET", "jobs/\(pathSegment(name))")
            try Printer(format: global.output).print(response) { json in
                let job = json as? [String: Any] ?? [:]
                return fieldList([
                    ("name", cell(job["name"])), ("enabled", cell(job["enabled"])), ("schedule", scheduleText(job)),
                    ("next run", cell(job["nextRunAt"], time: true)),
                    ("run execution timeout", cell(job["runExecutionTimeout"], duration: true)),
                    ("run start timeout", cell(job["runStartTimeout"], duration: true)),
                    ("heartbeat timeout", cell(job["heartbeatTimeout"], duration: true)),
                    ("allow concurrent runs", cell(job["allowConcurrentRuns"])),
                    ("max queue count", cell(job["maxQueueCount"])),
                    ("catch-up window", cell(job["catchUpWindow"], duration: true)),
                    ("max retries", cell(job["maxRetries"])), ("retry delay", cell(job["retryDelay"], duration: true)),
                    ("locked by", cell(job["managerId"])), ("locked since", cell(job["heartbeat"], time: true)),
                ])
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows a run.")

        @Argument(help: "The run's id.")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.client().send("GET", "runs/\(pathSegment(id))")
            try Printer(format: global.output).print(response) { json in
                let run = json as? [String: Any] ?? [:]
                return fieldList([
                    ("id", cell(run["id"])), ("job", cell(run["jobName"])), ("status", cell(run["status"])),
                    ("trigger", cell(run["trigger"])), ("attempt", cell(run["attempt"])),
                    ("created", cell(run["createdTime"], time: true)), ("started", cell(run["startTime"], time: true)),
                    ("ended", cell(run["endTime"], time: true)), ("heartbeat", cell(run["heartbeat"], time: true)),
                    ("missed slots", cell(run["missedSlots"])), ("retry of", cell(run["retryOf"])),
                ])
            }
        }
    }

    struct Schedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows a job's next fire times.")

        @Argument(help: "The job's name.")
        var name: String

        @Option(help: "How many, 1–1000 (10).")
        var count: Int?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.client().send(
                "GET", "jobs/\(pathSegment(name))/schedule", query: count.map { [("count", String($0))] } ?? [])
            try Printer(format: global.output).print(response) { json in
                let next = (json as? [String: Any])?["next"] as? [String] ?? []
                return next.map { HumanTime.format($0) + "\n" }.joined()
            }
        }
    }
}
