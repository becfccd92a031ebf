import Synchronization

/// The slots of a cron expression in an IANA time zone, with SPEC §5's daylight-saving rules:
///
/// - A *fixed* hour (a value, list or range without step) names wall-clock times. One that falls
///   into a spring-forward gap fires once, at the first instant after the gap; one that occurs
///   twice in a fall-back repeat fires once, at its first occurrence.
/// - An hour of `*` or a step fires at every real instant that matches, so it keeps its rhythm
///   through both passes of a repeated hour and has nothing to fire in a gap.
///
/// The zone's offsets are a table of transitions (`ZoneOffsets`); the search walks the constant
/// offset segments from the starting instant and, inside each, looks for the next matching
/// wall-clock time with bit operations. No allocation after construction.
public struct CronSchedule: SlotSchedule {
    public let expression: CronExpression
    public let timeZone: String
    let zone: ZoneOffsets

    /// How far ahead the search looks before deciding a schedule has no further slot.
    static let horizon: Int64 = 30 * 366 * 86_400

    public init(expression: CronExpression, timeZone: String) throws(CronParseError) {
        guard let zone = ZoneOffsets.named(timeZone) else {
            throw CronParseError(message: "unknown time zone '\(timeZone)'")
        }
        self.expression = expression
        self.timeZone = timeZone
        self.zone = zone
    }

    private static let cache = Mutex<[String: CronExpression]>([:])

    /// Parses `cron` (remembering recent expressions) in `timeZone`.
    public init(cron: String, timeZone: String) throws(CronParseError) {
        let expression: CronExpression
        if let cached = Self.cache.withLock({ $0[cron] }) {
            expression = cached
        } else {
            expression = try CronExpression(parsing: cron)
            Self.cache.withLock { cache in
                if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
                cache[cron] = expression
            }
        }
        try self.init(expression: expression, timeZone: timeZone)
    }

    public func nextSlot(after instant: Timestamp) -> Timestamp? {
        next(atOrAfterSecond: floorDivide(instant.milliseconds, 1000).quotient + 1)
    }

    /// The first slot at or after `instant` (a cron job's first fire when `nextRunAt` is given).
    public func firstSlot(atOrAfter instant: Timestamp) -> Timestamp? {
        let (seconds, remainder) = floorDivide(instant.milliseconds, 1000)
        return next(atOrAfterSecond: remainder == 0 ? seconds : seconds + 1)
    }

    func next(atOrAfterSecond start: Int64) -> Timestamp? {
        let limit = start + Self.horizon
        var from = start
        var index = zone.segment(containing: from)
        let transitions = zone.transitions
        let offsets = zone.offsets
        while from < limit {
            let offset = Int64(offsets[index])
            let end = index < transitions.count ? transitions[index] : Int64.max
            var civilFrom = from + offset
            if index > 0 && expression.hourIsFixed {
                let segmentStart = transitions[index - 1]
                let previous = Int64(offsets[index - 1])
                if previous < offset && from <= segmentStart {
                    // Spring forward: wall-clock times in [start + previous, start + offset) do
                    // not exist; a fixed one fires once, when the gap ends.
                    if expression.nextCivil(atOrAfter: segmentStart + previous, before: segmentStart + offset) != nil {
                        return Timestamp(milliseconds: segmentStart * 1000)
                    }
                } else if previous > offset {
                    // Fall back: the repeated wall-clock times already fired in the first pass.
                    civilFrom = max(civilFrom, segmentStart + previous)
                }
            }
            let civilEnd = end == Int64.max ? limit + offset : end + offset
            if let civil = expression.nextCivil(atOrAfter: civilFrom, before: civilEnd) {
                return Timestamp(milliseconds: (civil - offset) * 1000)
            }
            guard end != Int64.max else { return nil }
            from = end
            index += 1
        }
        return nil
    }
}

extension CronExpression {
    /// The first wall-clock time (seconds since 1970-01-01T00:00 local) at or after `civil` and
    /// before `limit` that matches every field.
    func nextCivil(atOrAfter civil: Int64, before limit: Int64) -> Int64? {
        guard civil < limit else { return nil }
        let (dayNumber, secondOfDay) = floorDivide(civil, 86_400)
        var (year, month, day) = CivilCalendar.date(fromDays: Int(dayNumber))
        var second = Int(secondOfDay)
        while true {
            if months & (1 << UInt16(month)) == 0 {
                guard advanceMonth(&year, &month, limit: limit) else { return nil }
                day = 1
                second = 0
                continue
            }
            let candidates = dayMask(year: year, month: month) >> UInt32(day)
            if candidates == 0 {
                guard advanceMonth(&year, &month, limit: limit) else { return nil }
                day = 1
                second = 0
                continue
            }
            let matchingDay = day + candidates.trailingZeroBitCount
            if matchingDay != day {
                day = matchingDay
                second = 0
            }
            let dayStart = Int64(CivilCalendar.days(year: year, month: month, day: day)) * 86_400
            guard dayStart < limit else { return nil }
            if let time = nextTime(atOrAfter: second) {
                let result = dayStart + Int64(time)
                return result < limit ? result : nil
            }
            day += 1
            second = 0
        }
    }

    /// Moves to the first day of the next selected month; `false` past `limit`.
    @inline(__always)
    private func advanceMonth(_ year: inout Int, _ month: inout Int, limit: Int64) -> Bool {
        let later = months >> UInt16(month + 1)
        if later != 0 {
            month += 1 + later.trailingZeroBitCount
        } else {
            year += 1
            month = (months >> 1).trailingZeroBitCount + 1
        }
        return Int64(CivilCalendar.days(year: year, month: month, day: 1)) * 86_400 < limit
    }

    /// The first matching second of the day at or after `start`.
    @inline(__always)
    func nextTime(atOrAfter start: Int) -> Int? {
        var hour = start / 3600
        var minute = start / 60 % 60
        var second = start % 60
        while hour < 24 {
            let hourBits = hours >> UInt32(hour)
            guard hourBits != 0 else { return nil }
            let nextHour = hour + hourBits.trailingZeroBitCount
            if nextHour != hour {
                hour = nextHour
                minute = 0
                second = 0
            }
            let minuteBits = minutes >> UInt64(minute)
            if minuteBits != 0 {
                let nextMinute = minute + minuteBits.trailingZeroBitCount
                if nextMinute != minute {
                    minute = nextMinute
                    second = 0
                }
                let secondBits = seconds >> UInt64(second)
                if secondBits != 0 { return hour * 3600 + minute * 60 + second + secondBits.trailingZeroBitCount }
                minute += 1
                second = 0
                if minute < 60 { continue }
            }
            hour += 1
            minute = 0
            second = 0
        }
        return nil
    }

    /// Days of `month` that match the day fields, as bits 1–31.
    func dayMask(year: Int, month: Int) -> UInt32 {
        let length = CivilCalendar.daysInMonth(year: year, month: month)
        let valid: UInt32 = (UInt32(1) << UInt32(length + 1)) &- 2  // bits 1...length
        if !dayOfMonthRestricted && !dayOfWeekRestricted { return valid }
        let firstWeekday = CivilCalendar.weekday(ofDays: CivilCalendar.days(year: year, month: month, day: 1))
        var byDay: UInt32 = 0
        if dayOfMonthRestricted {
            byDay = daysOfMonth & valid
            var offsets = lastDayOfMonthOffsets
            while offsets != 0 {
                let offset = offsets.trailingZeroBitCount
                offsets &= offsets - 1
                if length - offset >= 1 { byDay |= 1 << UInt32(length - offset) }
            }
            var nearest = nearestWeekdays & valid
            while nearest != 0 {
                let day = nearest.trailingZeroBitCount
                nearest &= nearest - 1
                byDay |= 1 << UInt32(Self.nearestWeekday(to: day, length: length, firstWeekday: firstWeekday))
            }
            if lastWeekdayOfMonth {
                let weekday = (firstWeekday + length - 1) % 7
                byDay |= 1 << UInt32(weekday == 6 ? length - 1 : weekday == 0 ? length - 2 : length)
            }
        }
        var byWeekday: UInt32 = 0
        if dayOfWeekRestricted {
            // Weekday bits rotated so bit j is day j + 1, then repeated over five weeks.
            let w = UInt32(weekdays)
            let shift = UInt32(firstWeekday)
            let week = ((w >> shift) | (w << (7 - shift))) & 0x7F
            byWeekday = ((week | week << 7 | week << 14 | week << 21 | week << 28) << 1) & valid
            let lastWeekday = (firstWeekday + length - 1) % 7
            var last = lastWeekdaysOfMonth
            while last != 0 {
                let weekday = last.trailingZeroBitCount
                last &= last - 1
                byWeekday |= 1 << UInt32(length - (lastWeekday - weekday + 7) % 7)
            }
            var nth = nthWeekdays
            while nth != 0 {
                let bit = nth.trailingZeroBitCount
                nth &= nth - 1
                let (weekday, index) = (bit / 5, bit % 5)
                let day = 1 + (weekday - firstWeekday + 7) % 7 + 7 * index
                if day <= length { byWeekday |= 1 << UInt32(day) }
            }
        }
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return byDay | byWeekday  // Vixie cron: either matches
        case (true, false): return byDay
        default: return byWeekday
        }
    }

    /// Quartz's `W`: the weekday nearest `day`, never leaving the month.
    static func nearestWeekday(to day: Int, length: Int, firstWeekday: Int) -> Int {
        switch (firstWeekday + day - 1) % 7 {
        case 6: return day == 1 ? 3 : day - 1  // Saturday: Friday, or Monday the 3rd
        case 0: return day == length ? day - 2 : day + 1  // Sunday: Monday, or Friday
        default: return day
        }
    }
}
