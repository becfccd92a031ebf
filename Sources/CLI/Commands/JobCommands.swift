import ArgumentParser

struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Creates a job.", subcommands: [Job.self])

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates a job.", discussion: "--enabled defaults to true. Durations: ms, or 30s, 5m, 1h.")

        @Option(name: [.short, .long], help: "The job's name: letters, digits, '.', '_', '-'.")
        var name: String

        @OptionGroup var job: JobFieldOptions
        @OptionGroup var global: GlobalOptions

        var body: [String: Any] {
            var body = job.fields
            body["name"] = name
            if body["enabled"] == nil { body["enabled"] = true }
            return body
        }

        func run() async throws {
            let response = try await global.client().send("POST", "jobs", body: body)
            try Printer(format: global.output).print(response) { _ in "created job \(name)\n" }
        }
    }
}

struct UpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Changes a job.", subcommands: [Job.self])

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Changes the fields given, and only those.", discussion: "Name the job as an argument or with -n.")

        @Argument(help: "The job's name.")
        var positionalName: String?

        @Option(name: [.short, .long], help: "The job's name (instead of the argument).")
        var name: String?

        @OptionGroup var job: JobFieldOptions
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            switch (positionalName, name) {
            case (nil, nil): throw ValidationError("name the job: `update job NAME` or `update job -n NAME`")
            case (let a?, let b?) where a != b: throw ValidationError("two different job names given: '\(a)' and '\(b)'")
            default: break
            }
            if job.fields.isEmpty { throw ValidationError("give at least one field to change, e.g. --enabled false") }
        }

        var jobName: String { positionalName ?? name! }

        func run() async throws {
            try await global.client().send("PATCH", "jobs/\(pathSegment(jobName))", body: job.fields)
            try Printer(format: global.output).done("updated job \(jobName)", json: ["name": jobName])
        }
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Deletes a job.", subcommands: [Job.self])

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes a job; its active runs are cancelled, its history kept.")

        @Argument(help: "The job's name.")
        var name: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.client().send("DELETE", "jobs/\(pathSegment(name))")
            try Printer(format: global.output).done("deleted job \(name)", json: ["name": name])
        }
    }
}

struct TriggerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger", abstract: "Runs a job now.", subcommands: [Job.self])

    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Starts a manual run of a job now.")

        @Argument(help: "The job's name.")
        var name: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.client().send("POST", "jobs/\(pathSegment(name))/runs")
            try Printer(format: global.output).print(response) { json in
                "triggered run \(((json as? [String: Any])?["id"] as? String) ?? "?") of job \(name)\n"
            }
        }
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancels a run.", subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancels a run.")

        @Argument(help: "The run's id.")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.client().send("POST", "runs/\(pathSegment(id))/cancel")
            try Printer(format: global.output).done("cancel requested for run \(id)", json: ["id": id])
        }
    }
}
