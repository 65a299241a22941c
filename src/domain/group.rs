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
#[derive(Debug, Clone, PartialEq)]
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
    /// Everyone the configuration names: the lead, then the co-therapists.
    pub fn therapists(&self) -> impl Iterator<Item = Uuid> + '_ {
        std::iter::once(self.lead_therapist_id).chain(self.co_therapist_ids.iter().copied())
    }

    /// This configuration with the fields `p` gives in place of its own.
    pub fn patched(self, p: ConfigPatch) -> GroupConfig {
        GroupConfig {
            name: p.name.unwrap_or(self.name),
            lead_therapist_id: p.lead_therapist_id.unwrap_or(self.lead_therapist_id),
            co_therapist_ids: p.co_therapist_ids.unwrap_or(self.co_therapist_ids),
            min_size: p.min_size.unwrap_or(self.min_size),
            max_size: p.max_size.unwrap_or(self.max_size),
            meeting_day: p.meeting_day.unwrap_or(self.meeting_day),
            meeting_time: p.meeting_time.unwrap_or(self.meeting_time),
            timezone: p.timezone.unwrap_or(self.timezone),
            duration_minutes: p.duration_minutes.unwrap_or(self.duration_minutes),
            min_term_sessions: p.min_term_sessions.unwrap_or(self.min_term_sessions),
            exit_notice_sessions: p.exit_notice_sessions.unwrap_or(self.exit_notice_sessions),
            absence_alert_threshold: p
                .absence_alert_threshold
                .unwrap_or(self.absence_alert_threshold),
            completion_attendance_rate: p
                .completion_attendance_rate
                .unwrap_or(self.completion_attendance_rate),
            start_date: p.start_date.unwrap_or(self.start_date),
            end_date: p.end_date.unwrap_or(self.end_date),
        }
    }

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

/// A change of a group's configuration (PATCH): an absent field (`None`) keeps its value;
/// `end_date: Some(None)` removes the end date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigPatch {
    pub name: Option<String>,
    pub lead_therapist_id: Option<Uuid>,
    pub co_therapist_ids: Option<Vec<Uuid>>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub meeting_day: Option<MeetingDay>,
    pub meeting_time: Option<String>,
    pub timezone: Option<String>,
    pub duration_minutes: Option<i32>,
    pub min_term_sessions: Option<i32>,
    pub exit_notice_sessions: Option<i32>,
    pub absence_alert_threshold: Option<i32>,
    pub completion_attendance_rate: Option<f64>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<Option<NaiveDate>>,
}

impl ConfigPatch {
    /// The therapists the patch names (lead and co-therapists), if it names any.
    pub fn therapists(&self) -> impl Iterator<Item = Uuid> + '_ {
        let co = self.co_therapist_ids.iter().flatten().copied();
        self.lead_therapist_id.into_iter().chain(co)
    }
}

/// What a change of a group's configuration is decided on, loaded under the group's lock.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateFacts {
    pub status: GroupStatus,
    /// The configuration as stored.
    pub current: GroupConfig,
    pub patch: ConfigPatch,
    /// Of the therapists named by the current configuration or the patch, those who are
    /// active therapists or supervisors.
    pub active_clinicians: Vec<Uuid>,
    /// Seats held now (pending, active and exiting members).
    pub seats_taken: i64,
}

/// Why a change of a group's configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRefusal {
    /// A completed or cancelled group is history (409).
    Closed(GroupStatus),
    /// An active group's `start_date` is fixed (409).
    StartDateFixed,
    /// The new configuration breaks field rules (422): those of [`GroupConfig::validate`]
    /// first; only when they hold, those of [`check_clinicians`].
    Invalid(Validations),
    /// `max_size` below the seats already taken (422 on `max_size`).
    BelowSeatsTaken { taken: i64 },
}

/// Decides a change of a group's configuration (SPEC §2): a closed group never changes; an
/// active group keeps its `start_date`; the patched configuration must satisfy every field
/// rule, name active clinicians, and leave room for the seats already taken. Returns the
/// configuration to store.
pub fn decide_update(f: UpdateFacts) -> Result<GroupConfig, UpdateRefusal> {
    if f.status.is_closed() {
        return Err(UpdateRefusal::Closed(f.status));
    }
    let moves_start = f
        .patch
        .start_date
        .is_some_and(|d| d != f.current.start_date);
    if f.status == GroupStatus::Active && moves_start {
        return Err(UpdateRefusal::StartDateFixed);
    }
    let cfg = f.current.patched(f.patch);
    cfg.validate().finish().map_err(UpdateRefusal::Invalid)?;
    check_clinicians(&cfg, &f.active_clinicians)
        .finish()
        .map_err(UpdateRefusal::Invalid)?;
    if i64::from(cfg.max_size) < f.seats_taken {
        return Err(UpdateRefusal::BelowSeatsTaken {
            taken: f.seats_taken,
        });
    }
    Ok(cfg)
}

/// The lead and co-therapists must be active therapists or supervisors: each one among
/// `active_clinicians`.
pub fn check_clinicians(cfg: &GroupConfig, active_clinicians: &[Uuid]) -> Validations {
    let ok = |id: &Uuid| active_clinicians.contains(id);
    let mut v = Validations::new();
    v.check(
        ok(&cfg.lead_therapist_id),
        "lead_therapist_id",
        "must be an active therapist or supervisor",
    );
    v.check(
        cfg.co_therapist_ids.iter().all(ok),
        "co_therapist_ids",
        "must all be active therapists or supervisors",
    );
    v
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

    fn update_facts() -> UpdateFacts {
        let current = config();
        UpdateFacts {
            status: GroupStatus::Forming,
            active_clinicians: current.therapists().collect(),
            current,
            patch: ConfigPatch::default(),
            seats_taken: 9,
        }
    }

    fn refused_fields(r: Result<GroupConfig, UpdateRefusal>) -> Vec<String> {
        match r {
            Err(UpdateRefusal::Invalid(v)) => v.fields().into_iter().map(str::to_owned).collect(),
            other => panic!("not a field refusal: {other:?}"),
        }
    }

    #[test]
    fn an_update_merges_the_patch_into_the_configuration() {
        let f = update_facts();
        assert_eq!(decide_update(f.clone()), Ok(f.current.clone()));
        let end = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        let co = Uuid::new_v4();
        let mut f = UpdateFacts {
            status: GroupStatus::Active,
            patch: ConfigPatch {
                name: Some("Thursday evening".into()),
                co_therapist_ids: Some(vec![co]),
                max_size: Some(12),
                meeting_day: Some(MeetingDay::Thursday),
                // An active group may be sent its own start date.
                start_date: Some(config().start_date),
                end_date: Some(Some(end)),
                ..ConfigPatch::default()
            },
            ..update_facts()
        };
        f.active_clinicians.push(co);
        let want = GroupConfig {
            name: "Thursday evening".into(),
            co_therapist_ids: vec![co],
            max_size: 12,
            meeting_day: MeetingDay::Thursday,
            end_date: Some(end),
            ..f.current.clone()
        };
        assert_eq!(decide_update(f.clone()), Ok(want));
        // `end_date: null` removes the end date; an absent one keeps it.
        f.current.end_date = Some(end);
        f.patch = ConfigPatch {
            end_date: Some(None),
            ..ConfigPatch::default()
        };
        assert_eq!(decide_update(f.clone()).map(|c| c.end_date), Ok(None));
        f.patch.end_date = None;
        assert_eq!(decide_update(f).map(|c| c.end_date), Ok(Some(end)));
    }

    #[test]
    fn a_closed_group_never_changes() {
        for status in [GroupStatus::Completed, GroupStatus::Cancelled] {
            let f = UpdateFacts {
                status,
                ..update_facts()
            };
            assert_eq!(decide_update(f), Err(UpdateRefusal::Closed(status)));
        }
    }

    #[test]
    fn an_active_group_keeps_its_start_date() {
        let later = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let f = UpdateFacts {
            patch: ConfigPatch {
                start_date: Some(later),
                ..ConfigPatch::default()
            },
            ..update_facts()
        };
        assert_eq!(decide_update(f.clone()).map(|c| c.start_date), Ok(later));
        let active = UpdateFacts {
            status: GroupStatus::Active,
            ..f
        };
        assert_eq!(decide_update(active), Err(UpdateRefusal::StartDateFixed));
    }

    #[test]
    fn the_configuration_rules_come_first() {
        // A bad field, an inactive lead and too few seats at once: the field rules answer.
        let f = UpdateFacts {
            patch: ConfigPatch {
                min_size: Some(7),
                lead_therapist_id: Some(Uuid::new_v4()),
                max_size: Some(8),
                ..ConfigPatch::default()
            },
            ..update_facts()
        };
        assert_eq!(refused_fields(decide_update(f)), vec!["min_size"]);
    }

    #[test]
    fn the_therapists_must_be_active_clinicians() {
        let stranger = Uuid::new_v4();
        let lead = UpdateFacts {
            patch: ConfigPatch {
                lead_therapist_id: Some(stranger),
                max_size: Some(8),
                ..ConfigPatch::default()
            },
            ..update_facts()
        };
        // Before the seats: the lead is named, not the size.
        assert_eq!(
            refused_fields(decide_update(lead.clone())),
            vec!["lead_therapist_id"]
        );
        let co = UpdateFacts {
            patch: ConfigPatch {
                co_therapist_ids: Some(vec![stranger]),
                ..ConfigPatch::default()
            },
            ..update_facts()
        };
        assert_eq!(
            refused_fields(decide_update(co.clone())),
            vec!["co_therapist_ids"]
        );
        let mut co = co;
        co.active_clinicians.push(stranger);
        assert_eq!(
            decide_update(co).map(|c| c.co_therapist_ids),
            Ok(vec![stranger])
        );
        // A current lead who is no longer an active clinician blocks any change.
        let stale = UpdateFacts {
            active_clinicians: vec![],
            ..update_facts()
        };
        assert_eq!(
            refused_fields(decide_update(stale)),
            vec!["lead_therapist_id"]
        );
    }

    #[test]
    fn max_size_leaves_room_for_the_seats_taken() {
        let shrink = |max_size| UpdateFacts {
            patch: ConfigPatch {
                max_size: Some(max_size),
                ..ConfigPatch::default()
            },
            ..update_facts()
        };
        assert_eq!(
            decide_update(shrink(8)),
            Err(UpdateRefusal::BelowSeatsTaken { taken: 9 })
        );
        assert_eq!(decide_update(shrink(9)).map(|c| c.max_size), Ok(9));
    }
}
