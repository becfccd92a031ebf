// The Swift side of scripts/bench-cron: chained CronSchedule.nextSlot calls over the corpus,
// restarting from the same instant every 50 calls, best of 5 rounds. Prints
// `zone<TAB>expression<TAB>ns per call` per line.
import Foundation
import SchedulerCore

let corpus = try String(contentsOfFile: CommandLine.arguments[1], encoding: .utf8)
let start = try RFC3339.parse("2025-01-29T10:00:00Z")!
let calls = 20_000
var sink: Int64 = 0
for line in corpus.split(separator: "\n") {
    let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
    let schedule = try CronSchedule(cron: parts[1], timeZone: parts[0])
    var best = Duration.seconds(1000)
    for _ in 0..<5 {
        var t = start
        let began = ContinuousClock.now
        for i in 0..<calls {
            t = schedule.nextSlot(after: t)!
            if i % 50 == 49 {
                sink &+= t.milliseconds
                t = start
            }
        }
        best = min(best, began.duration(to: .now))
    }
    let nanoseconds = Double(best.components.seconds) * 1e9 + Double(best.components.attoseconds) / 1e9
    print("\(parts[0])\t\(parts[1])\t\(String(format: "%.1f", nanoseconds / Double(calls)))\t\(sink % 7)")
}
