import Foundation
import Synchronization

/// A time zone's UTC offsets as a sorted table of transitions, so the cron evaluator finds the
/// offset of any instant by binary search instead of asking ICU on every call.
///
/// The table is read once per zone from Foundation (the system tz database) and covers
/// 1900–2200; outside it the nearest offset holds.
final class ZoneOffsets: Sendable {
    /// Instants (seconds) at which the offset changes, ascending.
    let transitions: [Int64]
    /// `offsets[i]` holds from `transitions[i - 1]` (or forever before) to `transitions[i]`;
    /// one more entry than `transitions`.
    let offsets: [Int32]

    private static let cache = Mutex<[String: ZoneOffsets]>([:])

    /// The table of `identifier`, or `nil` when the system does not know the zone.
    static func named(_ identifier: String) -> ZoneOffsets? {
        if let cached = cache.withLock({ $0[identifier] }) { return cached }
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        let table = ZoneOffsets(zone)
        cache.withLock { $0[identifier] = table }
        return table
    }

    private init(_ zone: TimeZone) {
        var transitions: [Int64] = []
        var offsets: [Int32] = []
        var date = Date(timeIntervalSince1970: -2_208_988_800)  // 1900-01-01
        let end = Date(timeIntervalSince1970: 7_258_118_400)  // 2200-01-01
        offsets.append(Int32(zone.secondsFromGMT(for: date)))
        while let next = zone.nextDaylightSavingTimeTransition(after: date), next < end {
            let offset = Int32(zone.secondsFromGMT(for: next))
            if offset != offsets.last {
                transitions.append(Int64(next.timeIntervalSince1970.rounded()))
                offsets.append(offset)
            }
            date = next
        }
        self.transitions = transitions
        self.offsets = offsets
    }

    /// The index of the segment holding `instant`: `offsets[index]` applies, from
    /// `transitions[index - 1]` (inclusive) to `transitions[index]` (exclusive).
    @inline(__always)
    func segment(containing instant: Int64) -> Int {
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) >> 1
            if transitions[middle] <= instant { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func offset(at instant: Int64) -> Int64 { Int64(offsets[segment(containing: instant)]) }
}
