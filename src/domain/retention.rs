//! Report arithmetic (SPEC §5), on plain numbers: attendance rates, retention buckets, the
//! median and the retention curve. The SQL gathers the counts; the definitions live here.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::attendance::AttendanceStatus;
use crate::domain::membership::{ExitReason, MembershipStatus};

/// The session counts at which retention is reported.
pub const CURVE_POINTS: [i64; 4] = [4, 8, 12, 26];

/// One admitted member, as retention needs them.
#[derive(Debug, Clone)]
pub struct MemberOutcome {
    /// `active`, `exiting` or `exited`.
    pub status: MembershipStatus,
    pub exit_reason: Option<ExitReason>,
    /// Held sessions of the group since joining (until exit).
    pub sessions_held_since_join: i64,
    pub min_term_sessions: i64,
    /// Sessions attended (present, late, left early).
    pub sessions_attended: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct CurvePoint {
    pub sessions: i64,
    /// Members known to have stayed for `sessions` held sessions, over those whose outcome at
    /// that point is known (reached it, or left before it); null when none is known yet.
    pub retained: Option<f64>,
    pub reached: i64,
    pub known: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct RetentionFigures {
    pub admitted: i64,
    pub still_active: i64,
    pub exiting: i64,
    pub completed: i64,
    pub early_exit: i64,
    pub dropped_out: i64,
    pub discharged: i64,
    pub against_advice: i64,
    pub higher_level_of_care: i64,
    pub hospitalized: i64,
    pub incarcerated: i64,
    pub relocated: i64,
    pub transferred: i64,
    /// Exited with reason `other` (so that the status and exit-reason columns add up to
    /// `admitted`).
    pub other: i64,
    /// Pending seats withdrawn; never signed, so never admitted to active: always 0 here, listed
    /// so that every exit reason of SPEC §2 has its column.
    pub withdrawn: i64,
    /// Seats ended by the group completing or being cancelled (v2).
    pub group_ended: i64,
    pub reached_minimum_term: i64,
    /// reached_minimum_term / admitted; null when nobody was admitted.
    pub minimum_term_rate: Option<f64>,
    pub median_sessions_attended: Option<f64>,
    pub retained_after_sessions: Vec<CurvePoint>,
}

/// The attendance statuses that count as attended (SPEC §5).
pub const ATTENDED: [AttendanceStatus; 3] = [
    AttendanceStatus::Present,
    AttendanceStatus::Late,
    AttendanceStatus::LeftEarly,
];

/// (present + late + left_early) / sessions held while seated; null when none was held.
pub fn attendance_rate(
    present: i64,
    late: i64,
    left_early: i64,
    sessions_held: i64,
) -> Option<f64> {
    ratio(present + late + left_early, sessions_held)
}

pub fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0
    })
}

/// num / den rounded to 4 decimals; null when den is 0.
pub fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| (num as f64 / den as f64 * 10_000.0).round() / 10_000.0)
}

impl RetentionFigures {
    /// The mutually exclusive buckets every admitted member falls in exactly once: the two
    /// seated statuses, then one per exit reason (SPEC §5: they add up to `admitted`).
    pub fn buckets(&self) -> [(&'static str, i64); 15] {
        [
            ("still_active", self.still_active),
            ("exiting", self.exiting),
            ("completed", self.completed),
            ("early_exit", self.early_exit),
            ("dropped_out", self.dropped_out),
            ("discharged", self.discharged),
            ("against_advice", self.against_advice),
            ("higher_level_of_care", self.higher_level_of_care),
            ("hospitalized", self.hospitalized),
            ("incarcerated", self.incarcerated),
            ("relocated", self.relocated),
            ("transferred", self.transferred),
            ("other", self.other),
            ("withdrawn", self.withdrawn),
            ("group_ended", self.group_ended),
        ]
    }
}

pub fn figures(members: &[MemberOutcome]) -> RetentionFigures {
    let count = |f: &dyn Fn(&MemberOutcome) -> bool| members.iter().filter(|m| f(m)).count() as i64;
    let reason = |r: ExitReason| move |m: &MemberOutcome| m.exit_reason == Some(r);
    let admitted = members.len() as i64;
    let reached_minimum_term = count(&|m| m.sessions_held_since_join >= m.min_term_sessions);
    let mut attended: Vec<i64> = members.iter().map(|m| m.sessions_attended).collect();
    let curve = CURVE_POINTS
        .iter()
        .map(|&k| {
            let reached = count(&|m| m.sessions_held_since_join >= k);
            let left_before =
                count(&|m| m.status == MembershipStatus::Exited && m.sessions_held_since_join < k);
            let known = reached + left_before;
            CurvePoint {
                sessions: k,
                retained: ratio(reached, known),
                reached,
                known,
            }
        })
        .collect();
    RetentionFigures {
        admitted,
        still_active: count(&|m| m.status == MembershipStatus::Active),
        exiting: count(&|m| m.status == MembershipStatus::Exiting),
        completed: count(&reason(ExitReason::Completed)),
        early_exit: count(&reason(ExitReason::EarlyExit)),
        dropped_out: count(&reason(ExitReason::DroppedOut)),
        discharged: count(&reason(ExitReason::Discharged)),
        against_advice: count(&reason(ExitReason::AgainstAdvice)),
        higher_level_of_care: count(&reason(ExitReason::HigherLevelOfCare)),
        hospitalized: count(&reason(ExitReason::Hospitalized)),
        incarcerated: count(&reason(ExitReason::Incarcerated)),
        relocated: count(&reason(ExitReason::Relocated)),
        transferred: count(&reason(ExitReason::Transferred)),
        other: count(&reason(ExitReason::Other)),
        withdrawn: count(&reason(ExitReason::Withdrawn)),
        group_ended: count(&reason(ExitReason::GroupEnded)),
        reached_minimum_term,
        minimum_term_rate: ratio(reached_minimum_term, admitted),
        median_sessions_attended: median(&mut attended),
        retained_after_sessions: curve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(status: &str, reason: Option<&str>, held: i64, attended: i64) -> MemberOutcome {
        MemberOutcome {
            status: MembershipStatus::parse(status).unwrap(),
            exit_reason: reason.map(|r| ExitReason::parse(r).unwrap()),
            sessions_held_since_join: held,
            min_term_sessions: 12,
            sessions_attended: attended,
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3]), Some(3.0));
        assert_eq!(median(&mut [9, 1, 4]), Some(4.0));
        assert_eq!(median(&mut [1, 2, 3, 10]), Some(2.5));
    }

    #[test]
    fn figures_by_hand() {
        let f = figures(&[
            m("active", None, 30, 28),
            m("exiting", None, 13, 12),
            m("exited", Some("completed"), 14, 13),
            m("exited", Some("early_exit"), 5, 4),
            m("exited", Some("dropped_out"), 2, 1),
            m("active", None, 3, 3),
        ]);
        assert_eq!(f.admitted, 6);
        assert_eq!(
            (
                f.still_active,
                f.exiting,
                f.completed,
                f.early_exit,
                f.dropped_out
            ),
            (2, 1, 1, 1, 1)
        );
        assert_eq!(f.reached_minimum_term, 3);
        assert_eq!(f.minimum_term_rate, Some(0.5));
        assert_eq!(f.median_sessions_attended, Some(8.0), "1, 3, 4, 12, 13, 28");
        // k=4: reached 4 (30,13,14,5); left before 4: the dropout (2); the newcomer (3) is unknown
        assert_eq!(
            f.retained_after_sessions[0],
            CurvePoint {
                sessions: 4,
                retained: Some(0.8),
                reached: 4,
                known: 5
            }
        );
        // k=26: reached 1; left before: completed(14), early(5), dropped(2) → known 4
        assert_eq!(
            f.retained_after_sessions[3],
            CurvePoint {
                sessions: 26,
                retained: Some(0.25),
                reached: 1,
                known: 4
            }
        );
    }

    #[test]
    fn attendance_rates() {
        assert_eq!(attendance_rate(1, 1, 1, 4), Some(0.75));
        assert_eq!(attendance_rate(2, 0, 0, 3), Some(0.6667));
        assert_eq!(attendance_rate(0, 0, 0, 5), Some(0.0));
        assert_eq!(
            attendance_rate(0, 0, 0, 0),
            None,
            "nothing held while seated"
        );
    }

    #[test]
    fn statuses_and_exit_reasons_add_up_to_admitted() {
        let mut members = vec![m("active", None, 1, 1), m("exiting", None, 1, 1)];
        for r in ExitReason::ALL {
            let held = if r == ExitReason::Completed { 12 } else { 1 };
            members.push(m("exited", Some(r.as_str()), held, held));
        }
        let f = figures(&members);
        let parts = f.buckets();
        assert!(parts.iter().all(|(_, n)| *n == 1), "{parts:?}");
        assert_eq!(parts.len(), 2 + ExitReason::ALL.len());
        assert_eq!(parts.iter().map(|(_, n)| n).sum::<i64>(), f.admitted);
        // exactly k held sessions counts as retained at k
        assert_eq!(f.retained_after_sessions[2].reached, 1);
    }

    #[test]
    fn empty_window() {
        let f = figures(&[]);
        assert_eq!(f.admitted, 0);
        assert_eq!(f.minimum_term_rate, None);
        assert_eq!(f.median_sessions_attended, None);
        assert!(f
            .retained_after_sessions
            .iter()
            .all(|p| p.retained.is_none()));
    }
}
