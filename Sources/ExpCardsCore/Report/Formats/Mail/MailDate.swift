/// RFC 5322 §3.3 dates, in UTC: `Thu, 03 Dec 2026 07:02:36 +0000`.
enum MailDate {
    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(secondsSinceEpoch t: Int64) -> String {
        let (daysQ, secsR) = t.quotientAndRemainder(dividingBy: 86_400)
        let days = Int(secsR < 0 ? daysQ - 1 : daysQ)
        let secs = Int(secsR < 0 ? secsR + 86_400 : secsR)
        let d = Day(daysSinceEpoch: days)
        // 1970-01-01 was a Thursday.
        let weekday = weekdays[((days % 7) + 7 + 4) % 7]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(weekday), \(two(d.day)) \(months[d.month - 1]) \(d.year) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) +0000"
    }
}
