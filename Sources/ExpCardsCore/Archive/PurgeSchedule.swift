/// The platform's calendar: files are published on the 1st of each month at 04:00 UTC, gzipped
/// after 7 days and deleted after 21. The purge is counted from the publication (the month in the
/// file's name), not from the file's mtime, which changes when the platform compresses it.
public enum PurgeSchedule {
    public static let publicationHourUTC = 4
    public static let retentionDays = 21
    /// A file not yet archived this close to its purge deserves a loud warning.
    public static let urgentDays = 3

    /// Seconds since the epoch of the publication of a month's files: the 1st at 04:00 UTC.
    public static func publication(of month: YearMonth) -> Int64 {
        Int64(month.firstDay.daysSinceEpoch) * 86_400 + Int64(publicationHourUTC) * 3_600
    }

    /// When the platform deletes the month's files: publication + 21 days (the 22nd, 04:00 UTC).
    public static func purge(of month: YearMonth) -> Int64 {
        publication(of: month) + Int64(retentionDays) * 86_400
    }

    /// Whole days left before the purge, rounded down; negative once it is due.
    public static func daysLeft(for month: YearMonth, now: Int64) -> Int {
        let seconds = purge(of: month) - now
        return Int(seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400))
    }

    /// The month whose files are the newest published at `now` (before the 1st at 04:00 UTC, the
    /// previous month's).
    public static func currentPublishedMonth(now: Int64) -> YearMonth {
        let day = Day(daysSinceEpoch: Int((now - Int64(publicationHourUTC) * 3_600) / 86_400))
        return YearMonth(day)
    }

    /// Months missing between the oldest and the newest (their files were purged before anyone
    /// fetched them), sorted.
    public static func gaps(in months: Set<YearMonth>) -> [YearMonth] {
        guard let first = months.min(), let last = months.max() else { return [] }
        var missing: [YearMonth] = []
        var m = first
        while m < last {
            if !months.contains(m) { missing.append(m) }
            m = m.adding(months: 1)
        }
        return missing
    }
}
