//! Groups (SPEC §2): the rules a group's configuration must satisfy and its status machine.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::validation::Validations;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum MeetingDay {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl MeetingDay {
    pub const ALL: [MeetingDay; 7] = [
        MeetingDay::Monday,
        MeetingDay::Tuesday,
        MeetingDay::Wednesday,
        MeetingDay::Thursday,
        MeetingDay::Friday,
        MeetingDay::Saturday,
        MeetingDay::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeetingDay::Monday => "monday",
            MeetingDay::Tuesday => "tuesday",
            MeetingDay::Wednesday => "wednesday",
            MeetingDay::Thursday => "thursday",
            MeetingDay::Friday => "friday",
            MeetingDay::Saturday => "saturday",
            MeetingDay::Sunday => "sunday",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn weekday(self) -> chrono::Weekday {
        use chrono::Weekday::*;
        match self {
            MeetingDay::Monday => Mon,
            MeetingDay::Tuesday => Tue,
            MeetingDay::Wednesday => Wed,
            MeetingDay::Thursday => Thu,
            MeetingDay::Friday => Fri,
            MeetingDay::Saturday => Sat,
            MeetingDay::Sunday => Sun,
        }
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Forming,
    Active,
    Completed,
    Cancelled,
}

impl GroupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Forming => "forming",
            GroupStatus::Active => "active",
            GroupStatus::Completed => "completed",
            GroupStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Forming,
            Self::Active,
            Self::Completed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The statuses a transition may start from: start from forming, complete from active,
    /// cancel from forming or active.
    pub fn allowed_from(to: GroupStatus) -> &'static [GroupStatus] {
        match to {
            GroupStatus::Active => &[GroupStatus::Forming],
            GroupStatus::Completed => &[GroupStatus::Active],
            GroupStatus::Cancelled => &[GroupStatus::Forming, GroupStatus::Active],
            GroupStatus::Forming => &[],
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, GroupStatus::Completed | GroupStatus::Cancelled)
    }
}

/// What a status change of a group is decided on, loaded under the group's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusFacts {
    pub from: GroupStatus,
    pub min_size: i32,
    /// The group has an agreement (contract).
    pub has_contract: bool,
    pub active_members: i64,
}

/// Why a group cannot move to the status asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRefusal {
    /// The status machine has no such step.
    NotFrom { from: GroupStatus, to: GroupStatus },
    /// Starting needs an agreement.
    ContractMissing,
    /// Starting needs `min_size` active members.
    BelowMinimum { active: i64, min_size: i32 },
}

/// Decides moving a group to `to` (SPEC §2): the step must exist, and a start needs an
/// agreement and at least `min_size` active members. Returns the status left.
pub fn decide_status(to: GroupStatus, f: &StatusFacts) -> Result<GroupStatus, StatusRefusal> {
    if !GroupStatus::allowed_from(to).contains(&f.from) {
        return Err(StatusRefusal::NotFrom { from: f.from, to });
    }
    if to == GroupStatus::Active {
        if !f.has_contract {
            return Err(StatusRefusal::ContractMissing);
        }
        if f.active_members < i64::from(f.min_size) {
            return Err(StatusRefusal::BelowMinimum {
                active: f.active_members,
                min_size: f.min_size,
            });
        }
    }
    Ok(f.from)
}

/// A group's IANA time zone as stored (`groups.timezone`): a name chrono-tz does not know fails
/// to load, never falls back to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok().map(TimeZone)
    }
}

/// Parses `HH:MM` (24-hour).
pub fn parse_meeting_time(s: &str) -> Option<NaiveTime> {
    if s.len() != 5 {
        return None;
    }
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

pub fn format_meeting_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// A group's configurable fields, as they will be stored.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    pub name: String,
    pub lead_therapist_id: Uuid,
    pub co_therapist_ids: Vec<Uuid>,
    pub min_size: i32,
    pub max_size: i32,
    pub meeting_day: MeetingDay,
    pub meeting_time: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub min_term_sessions: i32,
    pub exit_notice_sessions: i32,
    pub absence_alert_threshold: i32,
    pub completion_attendance_rate: f64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

impl GroupConfig {
    /// Every rule of SPEC §2 that needs no database: ranges, sizes, co-therapists, time and
    /// zone. (That the therapists are active clinicians is checked against the database.)
    pub fn validate(&self) -> Validations {
        let mut v = Validations::new();
        if let Err(m) = crate::domain::text::required_line(&self.name, 200) {
            v.add("name", m);
        }
        v.check(
            (8..=15).contains(&self.min_size),
            "min_size",
            "must be between 8 and 15",
        );
        v.check(
            (8..=15).contains(&self.max_size),
            "max_size",
            "must be between 8 and 15",
        );
        v.check(
            self.min_size <= self.max_size,
            "max_size",
            "must be at least min_size",
        );
        v.check(
            self.co_therapist_ids.len() <= 2,
            "co_therapist_ids",
            "at most 2 co-therapists",
        );
        let mut all = self.co_therapist_ids.clone();
        all.push(self.lead_therapist_id);
        all.sort();
        all.dedup();
        v.check(
            all.len() == self.co_therapist_ids.len() + 1,
            "co_therapist_ids",
            "no one may be named twice",
        );
        v.check(
            parse_meeting_time(&self.meeting_time).is_some(),
            "meeting_time",
            "must be HH:MM (24-hour)",
        );
        v.check(
            self.timezone.parse::<chrono_tz::Tz>().is_ok(),
            "timezone",
            "must be an IANA time zone",
        );
        v.check(
            (30..=180).contains(&self.duration_minutes),
            "duration_minutes",
            "must be between 30 and 180",
        );
        v.check(
            (1..=52).contains(&self.min_term_sessions),
            "min_term_sessions",
            "must be between 1 and 52",
        );
        v.check(
            (1..=6).contains(&self.exit_notice_sessions),
            "exit_notice_sessions",
            "must be between 1 and 6",
        );
        v.check(
            (1..=10).contains(&self.absence_alert_threshold),
            "absence_alert_threshold",
            "must be between 1 and 10",
        );
        v.check(
            crate::domain::participation::valid_completion_rate(self.completion_attendance_rate),
            "completion_attendance_rate",
            "must be between 0 and 1",
        );
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid");
        let latest = NaiveDate::from_ymd_opt(2100, 1, 1).expect("valid");
        v.check(
            (earliest..latest).contains(&self.start_date),
            "start_date",
            "must be between 2000 and 2099",
        );
        if let Some(end) = self.end_date {
            v.check(
                end >= self.start_date,
                "end_date",
                "must not be before start_date",
            );
            v.check(end < latest, "end_date", "must be before 2100");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GroupConfig {
        GroupConfig {
            name: "Tuesday evening".into(),
            lead_therapist_id: Uuid::new_v4(),
            co_therapist_ids: vec![],
            min_size: 8,
            max_size: 15,
            meeting_day: MeetingDay::Tuesday,
            meeting_time: "18:00".into(),
            timezone: "America/New_York".into(),
            duration_minutes: 90,
            min_term_sessions: 12,
            exit_notice_sessions: 3,
            absence_alert_threshold: 3,
            completion_attendance_rate: 0.75,
            start_date: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
            end_date: None,
        }
    }

    fn fields(c: &GroupConfig) -> Vec<String> {
        c.validate()
            .fields()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(fields(&config()).is_empty());
    }

    #[test]
    fn sizes() {
        let mut c = config();
        (c.min_size, c.max_size) = (7, 15);
        assert_eq!(fields(&c), vec!["min_size"]);
        (c.min_size, c.max_size) = (10, 9);
        assert_eq!(fields(&c), vec!["max_size"]);
        (c.min_size, c.max_size) = (8, 16);
        assert_eq!(fields(&c), vec!["max_size"]);
    }

    #[test]
    fn co_therapists() {
        let mut c = config();
        c.co_therapist_ids = vec![Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        assert_eq!(fields(&c), vec!["co_therapist_ids"]);
        let x = Uuid::new_v4();
        c.co_therapist_ids = vec![x, x];
        assert_eq!(fields(&c), vec!["co_therapist_ids"]);
        c.co_therapist_ids = vec![c.lead_therapist_id];
        assert_eq!(fields(&c), vec!["co_therapist_ids"]);
    }

    #[test]
    fn time_and_zone() {
        let mut c = config();
        c.meeting_time = "25:00".into();
        c.timezone = "Mars/Olympus".into();
        assert_eq!(fields(&c), vec!["meeting_time", "timezone"]);
        c.meeting_time = "6:00".into();
        c.timezone = "Europe/Berlin".into();
        assert_eq!(fields(&c), vec!["meeting_time"]);
    }

    #[test]
    fn status_changes() {
        use GroupStatus::*;
        use StatusRefusal::*;
        let ready = StatusFacts {
            from: Forming,
            min_size: 8,
            has_contract: true,
            active_members: 8,
        };
        let table: Vec<(GroupStatus, StatusFacts, Result<GroupStatus, StatusRefusal>)> = vec![
            (Active, ready, Ok(Forming)),
            (
                Active,
                StatusFacts {
                    active_members: 15,
                    ..ready
                },
                Ok(Forming),
            ),
            (
                Active,
                StatusFacts {
                    has_contract: false,
                    ..ready
                },
                Err(ContractMissing),
            ),
            (
                Active,
                StatusFacts {
                    active_members: 7,
                    ..ready
                },
                Err(BelowMinimum {
                    active: 7,
                    min_size: 8,
                }),
            ),
            (
                Active,
                StatusFacts {
                    from: Active,
                    ..ready
                },
                Err(NotFrom {
                    from: Active,
                    to: Active,
                }),
            ),
            (
                Active,
                StatusFacts {
                    from: Cancelled,
                    has_contract: false,
                    ..ready
                },
                Err(NotFrom {
                    from: Cancelled,
                    to: Active,
                }),
            ),
            (
                Completed,
                StatusFacts {
                    from: Active,
                    ..ready
                },
                Ok(Active),
            ),
            (
                Completed,
                StatusFacts {
                    has_contract: false,
                    active_members: 0,
                    ..ready
                },
                Err(NotFrom {
                    from: Forming,
                    to: Completed,
                }),
            ),
            // Ending a group needs neither an agreement nor members.
            (
                Cancelled,
                StatusFacts {
                    has_contract: false,
                    active_members: 0,
                    ..ready
                },
                Ok(Forming),
            ),
            (
                Cancelled,
                StatusFacts {
                    from: Active,
                    ..ready
                },
                Ok(Active),
            ),
            (
                Cancelled,
                StatusFacts {
                    from: Completed,
                    ..ready
                },
                Err(NotFrom {
                    from: Completed,
                    to: Cancelled,
                }),
            ),
            (
                Forming,
                ready,
                Err(NotFrom {
                    from: Forming,
                    to: Forming,
                }),
            ),
        ];
        for (to, facts, want) in table {
            assert_eq!(decide_status(to, &facts), want, "{facts:?} to {to:?}");
        }
    }
}
