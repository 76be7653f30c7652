import Testing

@testable import ExpCardsCore

@Suite struct DayTests {
    @Test func validation() {
        #expect(Day(year: 2024, month: 2, day: 29) != nil)
        #expect(Day(year: 2023, month: 2, day: 29) == nil)
        #expect(Day(year: 1900, month: 2, day: 29) == nil)
        #expect(Day(year: 2000, month: 2, day: 29) != nil)
        #expect(Day(year: 2024, month: 4, day: 31) == nil)
        #expect(Day(year: 2024, month: 13, day: 1) == nil)
        #expect(Day(yyyymmdd: "20180722") == Day(year: 2018, month: 7, day: 22))
        #expect(Day(yyyymmdd: "2018072") == nil)
        #expect(Day(yyyymmdd: "2018-7-2") == nil)
        #expect(Day(iso: "2018-07-22") == Day(year: 2018, month: 7, day: 22))
        #expect(Day(iso: "20180722") == nil)
    }

    @Test func epochRoundTripAndWeekday() throws {
        #expect(Day(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
        #expect(Day(year: 2000, month: 3, day: 1)!.daysSinceEpoch == 11017)
        var d = try #require(Day(year: 1999, month: 12, day: 25))
        for _ in 0..<4000 {
            #expect(Day(daysSinceEpoch: d.daysSinceEpoch) == d)
            let next = d.adding(days: 1)
            #expect(next > d)
            #expect(next.weekday == d.weekday % 7 + 1)
            d = next
        }
        #expect(Day(year: 2026, month: 11, day: 27)!.weekday == 5)  // a Friday
    }

    @Test func monthArithmeticClamps() {
        let jan31 = Day(year: 2024, month: 1, day: 31)!
        #expect(jan31.adding(months: 1) == Day(year: 2024, month: 2, day: 29))
        #expect(Day(year: 2023, month: 1, day: 31)!.adding(months: 1) == Day(year: 2023, month: 2, day: 28))
        #expect(jan31.adding(months: 3) == Day(year: 2024, month: 4, day: 30))
        #expect(jan31.adding(months: 12) == Day(year: 2025, month: 1, day: 31))
        #expect(jan31.adding(months: -2) == Day(year: 2023, month: 11, day: 30))
        #expect(Day(year: 2024, month: 12, day: 15)!.adding(months: 2) == Day(year: 2025, month: 2, day: 15))
    }

    @Test func formatting() {
        #expect(Day(year: 2018, month: 7, day: 2)!.description == "2018-07-02")
        #expect(YearMonth(year: 2018, month: 7)!.description == "2018-07")
        #expect(YearMonth("2018-07") == YearMonth(year: 2018, month: 7))
        #expect(YearMonth("201807") == YearMonth(year: 2018, month: 7))
        #expect(YearMonth("2018-13") == nil)
        #expect(YearMonth("2018/07") == nil)
    }
}

@Suite struct ArchivePathTests {
    @Test func remoteDirectoriesMapToTheArchiveLayout() {
        #expect(ArchivePath.relativeDirectory(forRemote: "/ROOT/expired") == "ROOT/expired")
        #expect(ArchivePath.relativeDirectory(forRemote: "12345678/expired") == "12345678/expired")
        #expect(ArchivePath.relativeDirectory(forRemote: "/srv/sftp/acme/ROOT/expired") == "ROOT/expired")
        #expect(ArchivePath.relativeDirectory(forRemote: "./12345678/expired") == "12345678/expired")
        #expect(ArchivePath.relativeDirectory(forRemote: "/ROOT/../expired") == nil)
        #expect(ArchivePath.relativeDirectory(forRemote: "/") == nil)
    }

    @Test func unsafeNamesAreRefused() {
        for name in [
            "", ".", "..", "../x.csv", "a/b.csv", ".hidden.csv", "a\u{1}b.csv", "a\nb.csv", "a\\b.csv", "a\u{85}b.csv",
        ] {
            #expect(!ArchivePath.isSafeComponent(name), "\(name.debugDescription)")
            #expect(ArchivePath.refusal(name) != nil)
        }
        #expect(ArchivePath.isSafeComponent("202611.EXP_CARDS.Société.P.csv"))
    }

    @Test func purgeCalendar() {
        let nov = YearMonth(year: 2026, month: 11)!
        let publication = PurgeSchedule.publication(of: nov)
        #expect(iso8601UTC(epochSeconds: publication) == "2026-11-01T04:00:00Z")
        #expect(iso8601UTC(epochSeconds: PurgeSchedule.purge(of: nov)) == "2026-11-22T04:00:00Z")
        #expect(PurgeSchedule.daysLeft(for: nov, now: publication) == 21)
        #expect(PurgeSchedule.daysLeft(for: nov, now: PurgeSchedule.purge(of: nov) - 1) == 0)
        #expect(PurgeSchedule.daysLeft(for: nov, now: PurgeSchedule.purge(of: nov) + 1) == -1)
        #expect(PurgeSchedule.currentPublishedMonth(now: publication - 1) == YearMonth(year: 2026, month: 10))
        #expect(PurgeSchedule.currentPublishedMonth(now: publication) == nov)
        #expect(
            PurgeSchedule.gaps(in: [YearMonth(year: 2026, month: 8)!, nov]) == [
                YearMonth(year: 2026, month: 9)!, YearMonth(year: 2026, month: 10)!,
            ])
        #expect(PurgeSchedule.gaps(in: [nov]).isEmpty)
    }
}
