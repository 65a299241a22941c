//! What a member's attendance record adds up to (SPEC §2, v2): sessions attended, the
//! attendance rate, whether a finished stay counts as `completed`, and the absence streak that
//! puts a member at risk. Pure functions over statuses and counts.

use super::attendance::AttendanceStatus;

/// The group's default `completion_attendance_rate`.
pub const DEFAULT_COMPLETION_RATE: f64 = 0.75;

/// A `completion_attendance_rate` is a share: 0–1 inclusive (and a number).
pub fn valid_completion_rate(rate: f64) -> bool {
    rate.is_finite() && (0.0..=1.0).contains(&rate)
}

/// attended / held, rounded to 4 decimals; null when nothing was held while seated.
pub fn attendance_rate(attended: i64, held: i64) -> Option<f64> {
    super::retention::ratio(attended, held)
}

/// `completed` needs the minimum term met **and** attended ≥ rate × sessions held while seated
/// (SPEC §2, v2). Compared in integers of 1/10 000 so that 3 of 4 at 0.75 is exactly enough.
pub fn completion_met(minimum_term_met: bool, attended: i64, held: i64, rate: f64) -> bool {
    let rate_e4 = (rate * 10_000.0).round() as i64;
    minimum_term_met && attended * 10_000 >= rate_e4 * held
}

/// Consecutive unexcused absences, newest first (`newest_first` ordered by session time, most
/// recent session first): an excused absence neither breaks nor extends the streak; any
/// attended status ends it.
pub fn absence_streak<I: IntoIterator<Item = AttendanceStatus>>(newest_first: I) -> i32 {
    let mut streak = 0;
    for s in newest_first {
        match s {
            AttendanceStatus::UnexcusedAbsence => streak += 1,
            AttendanceStatus::ExcusedAbsence => {}
            _ => break,
        }
    }
    streak
}

/// `at_risk` follows the streak: at least `absence_alert_threshold` unexcused absences in a row.
pub fn at_risk(streak: i32, threshold: i32) -> bool {
    streak >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttendanceStatus::*;

    #[test]
    fn streaks() {
        assert_eq!(absence_streak([]), 0);
        assert_eq!(absence_streak([Present, UnexcusedAbsence]), 0);
        assert_eq!(
            absence_streak([UnexcusedAbsence, UnexcusedAbsence, Late]),
            2
        );
        // excused neither breaks nor extends
        assert_eq!(
            absence_streak([
                UnexcusedAbsence,
                ExcusedAbsence,
                UnexcusedAbsence,
                LeftEarly,
                UnexcusedAbsence
            ]),
            2
        );
        assert_eq!(absence_streak([ExcusedAbsence, ExcusedAbsence]), 0);
        assert_eq!(absence_streak([ExcusedAbsence, UnexcusedAbsence]), 1);
        assert!(at_risk(3, 3));
        assert!(!at_risk(2, 3));
    }

    #[test]
    fn completion_needs_term_and_attendance() {
        // 12 weeks seated, came twice: not a completion
        assert!(!completion_met(true, 2, 12, 0.75));
        assert!(completion_met(true, 9, 12, 0.75));
        assert!(!completion_met(true, 8, 12, 0.75));
        assert!(completion_met(true, 3, 4, 0.75), "exactly the rate");
        assert!(!completion_met(false, 12, 12, 0.75), "term not met");
        assert!(completion_met(true, 0, 12, 0.0));
        assert!(!completion_met(true, 11, 12, 1.0));
        assert!(
            completion_met(true, 0, 0, 0.75),
            "nothing held: nothing missed"
        );
    }

    #[test]
    fn rates() {
        assert!(valid_completion_rate(0.0));
        assert!(valid_completion_rate(1.0));
        assert!(!valid_completion_rate(1.01));
        assert!(!valid_completion_rate(-0.1));
        assert!(!valid_completion_rate(f64::NAN));
        assert_eq!(attendance_rate(3, 4), Some(0.75));
        assert_eq!(attendance_rate(0, 0), None);
    }
}
