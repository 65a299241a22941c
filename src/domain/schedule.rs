//! Weekly meetings in a group's own time zone (SPEC §2, issue 6): a group meeting at 18:00
//! local keeps meeting at 18:00 local across daylight-saving changes, so each occurrence is
//! computed from its local date and time, never by adding 7×24 hours.

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// The instant a local date and time denote in `tz`. In the autumn overlap the earlier of the
/// two instants is taken; in the spring gap (a time that does not exist) the meeting moves
/// forward by the gap, e.g. 02:30 becomes 03:30.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Walk forward minute by minute to the first valid local time (gaps are ≤ 2 h).
            (1..=180)
                .find_map(|m| {
                    tz.from_local_datetime(&(naive + Duration::minutes(m)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
        }
    }
}

/// The first date on or after `from` that falls on `day` (none past the last representable
/// date).
pub fn first_on_or_after(from: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let offset = (7 + day.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from.checked_add_days(Days::new(offset.into()))
}

/// Weekly meeting instants on `day` at `time` (local to `tz`), from the first such date on or
/// after `from` up to and including `through`.
pub fn weekly(
    tz: Tz,
    day: Weekday,
    time: NaiveTime,
    from: NaiveDate,
    through: NaiveDate,
) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut date = first_on_or_after(from, day);
    while let Some(d) = date.filter(|d| *d <= through) {
        out.push(local_instant(tz, d, time));
        date = d.checked_add_days(Days::new(7));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn ny() -> Tz {
        "America/New_York".parse().unwrap()
    }

    #[test]
    fn keeps_local_time_across_spring_and_autumn_changes() {
        let six_pm = NaiveTime::from_hms_opt(18, 0, 0).unwrap();
        // DST begins 2026-03-08 and ends 2026-11-01 in New York.
        let spring = weekly(
            ny(),
            Weekday::Thu,
            six_pm,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
        );
        assert_eq!(spring.len(), 2);
        assert_eq!(
            (spring[0].hour(), spring[1].hour()),
            (23, 22),
            "EST then EDT in UTC"
        );
        for t in &spring {
            assert_eq!(t.with_timezone(&ny()).hour(), 18);
        }
        let autumn = weekly(
            ny(),
            Weekday::Thu,
            six_pm,
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 8).unwrap(),
        );
        assert_eq!(
            autumn.iter().map(|t| t.hour()).collect::<Vec<_>>(),
            vec![22, 23]
        );
        assert_eq!(autumn[1] - autumn[0], Duration::hours(7 * 24 + 1));
    }

    #[test]
    fn gap_and_overlap() {
        let t = local_instant(
            ny(),
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        );
        assert_eq!(
            t.with_timezone(&ny()).hour(),
            3,
            "02:30 does not exist; moves to 03:30"
        );
        let t = local_instant(
            ny(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            NaiveTime::from_hms_opt(1, 30, 0).unwrap(),
        );
        assert_eq!(
            t.hour(),
            5,
            "01:30 happens twice; the earlier (EDT, 05:30 UTC) is taken"
        );
    }

    #[test]
    fn first_weekday() {
        let sun = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(first_on_or_after(sun, Weekday::Sun), Some(sun));
        assert_eq!(
            first_on_or_after(sun, Weekday::Sat),
            NaiveDate::from_ymd_opt(2026, 3, 7)
        );
        assert!(weekly(ny(), Weekday::Mon, NaiveTime::MIN, sun, sun).is_empty());
    }

    #[test]
    fn the_end_of_the_calendar_ends_the_series_without_overflow() {
        let last = NaiveDate::MAX;
        let from = last - Duration::days(20);
        let all = weekly(ny(), from.weekday(), NaiveTime::MIN, from, last);
        assert_eq!(all.len(), 3, "from, from + 7, from + 14");
        let past_end = weekly(ny(), last.weekday().succ(), NaiveTime::MIN, last, last);
        assert!(past_end.is_empty());
    }
}
