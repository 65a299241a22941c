//! Rescheduling one session (SPEC §2, v2): a `scheduled` session moves to a new time and/or
//! length, never into the past and never overlapping another session of its group.

use chrono::{DateTime, Duration, Utc};

use super::session::SessionStatus;

/// Why a reschedule is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RescheduleRefusal {
    /// 422 naming the field.
    Invalid(&'static str, &'static str),
    /// 409: the session is held or cancelled.
    NotScheduled(SessionStatus),
    /// 409: it would overlap this other session (its start).
    Overlaps(DateTime<Utc>),
}

/// Checks moving a session (status `status`) to [`start`, `start + minutes`) at `now`, given
/// the group's other non-cancelled sessions as (start, minutes).
pub fn check(
    status: SessionStatus,
    start: DateTime<Utc>,
    minutes: i32,
    now: DateTime<Utc>,
    others: &[(DateTime<Utc>, i32)],
) -> Result<(), RescheduleRefusal> {
    if status != SessionStatus::Scheduled {
        return Err(RescheduleRefusal::NotScheduled(status));
    }
    if !(30..=180).contains(&minutes) {
        return Err(RescheduleRefusal::Invalid(
            "duration_minutes",
            "must be between 30 and 180",
        ));
    }
    if start <= now {
        return Err(RescheduleRefusal::Invalid(
            "scheduled_at",
            "must not be in the past",
        ));
    }
    let end = start + Duration::minutes(minutes as i64);
    for (s, m) in others {
        let e = *s + Duration::minutes(*m as i64);
        if start < e && *s < end {
            return Err(RescheduleRefusal::Overlaps(*s));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn rules() {
        let now = t(8);
        let others = [(t(18), 90)];
        assert!(check(SessionStatus::Scheduled, t(10), 90, now, &others).is_ok());
        assert!(
            check(SessionStatus::Scheduled, t(16), 120, now, &others).is_ok(),
            "ends as the other begins"
        );
        assert_eq!(
            check(SessionStatus::Scheduled, t(17), 90, now, &others),
            Err(RescheduleRefusal::Overlaps(t(18)))
        );
        assert_eq!(
            check(SessionStatus::Scheduled, t(19), 30, now, &others),
            Err(RescheduleRefusal::Overlaps(t(18)))
        );
        assert!(matches!(
            check(SessionStatus::Scheduled, t(7), 90, now, &others),
            Err(RescheduleRefusal::Invalid("scheduled_at", _))
        ));
        assert!(matches!(
            check(SessionStatus::Scheduled, t(10), 20, now, &others),
            Err(RescheduleRefusal::Invalid("duration_minutes", _))
        ));
        assert!(matches!(
            check(SessionStatus::Held, t(10), 90, now, &others),
            Err(RescheduleRefusal::NotScheduled(_))
        ));
    }
}
