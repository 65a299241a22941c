//! The document a disclosure releases (SPEC §8): a letter on the practice's name to the
//! consent's recipient, with what the consent allows and was asked for, and the §2.32 notice.
//! `gather` reads the facts; `blocks` lays them out (pure, so the same facts always make the
//! same PDF).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use uuid::Uuid;

use super::pdf::{indented, para, render, Block, Style};
use crate::consents::ConsentRow;
use crate::domain::attendance::AttendanceStatus;
use crate::domain::consent::{InformationKind, RecipientKind};
use crate::domain::group::TimeZone;
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::domain::screening::Outcome as ScreeningOutcome;
use crate::domain::screening::ScreeningStatus;
use crate::schema::{attendance, clients, groups, memberships, screenings, sessions};
use crate::sessions::model::SessionStatus;

/// 42 CFR §2.32(a)(1) as amended in 2024 (89 FR 12472), the statement that must accompany
/// every disclosure made with the patient's written consent, in full (its first sentence in the
/// words SPEC §8 quotes).
pub const REDISCLOSURE_NOTICE: [&str; 5] = [
    "This record which has been disclosed to you is protected by federal confidentiality rules \
     (42 CFR part 2). These rules prohibit you from using or disclosing this record, or \
     testimony that describes the information contained in this record, in any civil, \
     criminal, administrative, or legislative proceedings by any Federal, State, or local \
     authority, against the patient, unless authorized by the consent of the patient, except \
     as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR \
     2.64 or 2.65. In addition, the Federal rules prohibit you from making any other use or \
     disclosure of this record unless at least one of the following applies:",
    "(i) Further use or disclosure is expressly permitted by the written consent of the \
     individual whose information is being disclosed in this record or as otherwise permitted \
     by 42 CFR part 2.",
    "(ii) You are a covered entity or business associate and have received the record for \
     treatment, payment, or health care operations, or",
    "(iii) You have received the record from a covered entity or business associate as \
     permitted by 45 CFR part 164, subparts A and E.",
    "A general authorization for the release of medical or other information is NOT \
     sufficient to meet the required elements of written consent to further use or redisclose \
     the record (see 42 CFR 2.31).",
];

/// One held session of a group and the client's attendance at it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLine {
    pub sequence: i32,
    pub date: NaiveDate,
    /// `None`: held while the client was seated, but no attendance was recorded.
    pub status: Option<AttendanceStatus>,
    pub minutes_late: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupLines {
    pub group_name: String,
    pub membership_status: MembershipStatus,
    pub joined_on: Option<NaiveDate>,
    pub exited_on: Option<NaiveDate>,
    pub exit_reason: Option<ExitReason>,
    pub sessions: Vec<SessionLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScreeningLine {
    pub completed_on: NaiveDate,
    pub outcome: ScreeningOutcome,
}

/// Everything the letter says.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub practice_name: String,
    pub date: NaiveDate,
    pub client_name: String,
    pub date_of_birth: NaiveDate,
    pub recipient_name: String,
    pub recipient_kind: RecipientKind,
    pub purpose: String,
    pub consent_signed_on: NaiveDate,
    pub consent_expiry: String,
    pub information: Vec<InformationKind>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub groups: Vec<GroupLines>,
    pub screenings: Vec<ScreeningLine>,
    pub released_by: String,
}

impl Letter {
    fn includes(&self, kind: InformationKind) -> bool {
        self.information.contains(&kind) || self.information.contains(&InformationKind::Record)
    }

    /// The PDF.
    pub fn pdf(&self) -> Vec<u8> {
        render(
            &format!(
                "{} — disclosure to {}",
                self.practice_name, self.recipient_name
            ),
            &format!(
                "{} — confidential, 42 CFR part 2 — {}",
                self.practice_name, self.client_name
            ),
            &self.blocks(),
        )
    }

    pub fn blocks(&self) -> Vec<Block> {
        let mut b = vec![
            para(Style::Title, &self.practice_name),
            para(
                Style::Body,
                "Disclosure of substance use disorder treatment information under a written \
                 consent (42 CFR part 2)",
            ),
            Block::Space(8.0),
            para(Style::Body, format!("Date: {}", self.date)),
            para(
                Style::Body,
                format!(
                    "To: {} ({})",
                    self.recipient_name,
                    recipient_label(self.recipient_kind)
                ),
            ),
            para(Style::Body, format!("Purpose: {}", self.purpose)),
            Block::Space(6.0),
            para(Style::Bold, format!("Client: {}", self.client_name)),
            para(
                Style::Body,
                format!("Date of birth: {}", self.date_of_birth),
            ),
            para(
                Style::Body,
                format!(
                    "Consent signed on {}; expires: {}",
                    self.consent_signed_on, self.consent_expiry
                ),
            ),
            para(
                Style::Body,
                format!(
                    "Information disclosed: {}",
                    self.information
                        .iter()
                        .map(|k| k.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            para(Style::Body, format!("Period: {}", self.period())),
        ];

        if self.includes(InformationKind::MembershipStatus) {
            b.push(Block::Space(8.0));
            b.push(para(Style::Heading, "Group membership"));
            if self.groups.is_empty() {
                b.push(para(Style::Body, "No group membership on record."));
            }
            for g in &self.groups {
                let mut line = format!(
                    "{}: {}",
                    g.group_name,
                    membership_label(g.membership_status)
                );
                if let Some(d) = g.joined_on {
                    line.push_str(&format!("; joined {d}"));
                }
                if let Some(d) = g.exited_on {
                    line.push_str(&format!("; left {d}"));
                }
                if let Some(r) = g.exit_reason {
                    line.push_str(&format!(" ({})", r.as_str().replace('_', " ")));
                }
                b.push(indented(Style::Body, 12.0, line));
            }
        }

        if self.includes(InformationKind::Attendance) {
            b.push(Block::Space(8.0));
            b.push(para(Style::Heading, "Attendance at held group sessions"));
            if self.groups.is_empty() {
                b.push(para(
                    Style::Body,
                    "No group sessions were held for the client.",
                ));
            }
            for g in &self.groups {
                b.push(Block::Space(4.0));
                b.push(para(Style::Bold, format!("Group: {}", g.group_name)));
                if g.sessions.is_empty() {
                    b.push(indented(
                        Style::Body,
                        12.0,
                        "No sessions of this group were held in the period.",
                    ));
                    continue;
                }
                b.push(Block::Row {
                    style: Style::Bold,
                    cells: vec![
                        (12.0, "Session".into()),
                        (80.0, "Date".into()),
                        (170.0, "Attendance".into()),
                    ],
                });
                for s in &g.sessions {
                    let mut status = s
                        .status
                        .map(status_label)
                        .unwrap_or("not recorded")
                        .to_string();
                    if let Some(m) = s.minutes_late.filter(|m| *m > 0) {
                        status.push_str(&format!(" ({m} min late)"));
                    }
                    b.push(Block::Row {
                        style: Style::Body,
                        cells: vec![
                            (12.0, format!("#{}", s.sequence)),
                            (80.0, s.date.to_string()),
                            (170.0, status),
                        ],
                    });
                }
                b.push(indented(Style::Body, 12.0, totals(&g.sessions)));
            }
        }

        if self.includes(InformationKind::ScreeningOutcome) {
            b.push(Block::Space(8.0));
            b.push(para(Style::Heading, "Screening interviews"));
            if self.screenings.is_empty() {
                b.push(para(Style::Body, "No completed screening interview."));
            }
            for s in &self.screenings {
                b.push(indented(
                    Style::Body,
                    12.0,
                    format!(
                        "{}: {}",
                        s.completed_on,
                        s.outcome.as_str().replace('_', " ")
                    ),
                ));
            }
        }

        b.push(Block::Space(8.0));
        b.push(para(
            Style::Body,
            format!(
                "Released by {} for {}.",
                self.released_by, self.practice_name
            ),
        ));
        b.push(Block::Space(10.0));
        b.push(para(
            Style::Heading,
            "Notice to the recipient (42 CFR 2.32): prohibition on re-disclosure",
        ));
        for (i, p) in REDISCLOSURE_NOTICE.iter().enumerate() {
            let indent = if (1..=3).contains(&i) { 12.0 } else { 0.0 };
            b.push(indented(Style::Body, indent, *p));
        }
        b
    }

    fn period(&self) -> String {
        match (self.period_from, self.period_to) {
            (Some(f), Some(t)) => format!("{f} to {t}"),
            (Some(f), None) => format!("{f} to {}", self.date),
            (None, Some(t)) => format!("from the start of treatment to {t}"),
            (None, None) => format!("from the start of treatment to {}", self.date),
        }
    }
}

/// "Sessions held: 4; attended: 3 (present 2, late 1, left early 0); excused absences: 1;
/// unexcused absences: 0; attendance rate: 75%".
pub fn totals(sessions: &[SessionLine]) -> String {
    let count = |s: AttendanceStatus| sessions.iter().filter(|l| l.status == Some(s)).count();
    let held = sessions.len();
    let attended = sessions
        .iter()
        .filter(|l| l.status.is_some_and(AttendanceStatus::attended))
        .count();
    let unrecorded = sessions.iter().filter(|l| l.status.is_none()).count();
    let mut t = format!(
        "Totals: {held} held; attended {attended} (present {}, late {}, left early {}); \
         excused absences {}; unexcused absences {}",
        count(AttendanceStatus::Present),
        count(AttendanceStatus::Late),
        count(AttendanceStatus::LeftEarly),
        count(AttendanceStatus::ExcusedAbsence),
        count(AttendanceStatus::UnexcusedAbsence),
    );
    if unrecorded > 0 {
        t.push_str(&format!("; not recorded {unrecorded}"));
    }
    if let Some(rate) = (attended * 100 + held / 2).checked_div(held) {
        t.push_str(&format!("; attendance rate {rate}%"));
    }
    t.push('.');
    t
}

pub fn status_label(s: AttendanceStatus) -> &'static str {
    match s {
        AttendanceStatus::Present => "present",
        AttendanceStatus::Late => "late",
        AttendanceStatus::LeftEarly => "left early",
        AttendanceStatus::ExcusedAbsence => "excused absence",
        AttendanceStatus::UnexcusedAbsence => "unexcused absence",
    }
}

fn membership_label(s: MembershipStatus) -> &'static str {
    match s {
        MembershipStatus::Pending => "admitted, agreement not yet signed",
        MembershipStatus::Active => "active member",
        MembershipStatus::Exiting => "active member, leaving (exit announced)",
        MembershipStatus::Exited => "no longer a member",
    }
}

fn recipient_label(k: RecipientKind) -> &'static str {
    match k {
        RecipientKind::Court => "court",
        RecipientKind::Probation => "probation",
        RecipientKind::Employer => "employer",
        RecipientKind::Physician => "physician",
        RecipientKind::TreatmentProgram => "treatment program",
        RecipientKind::Family => "family",
        RecipientKind::Other => "other",
    }
}

/// What the letter is made of, read in the disclosure's transaction.
pub struct Request<'a> {
    pub practice_name: &'a str,
    pub date: NaiveDate,
    pub client_id: Uuid,
    pub consent: &'a ConsentRow,
    pub information: &'a [InformationKind],
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub released_by: &'a str,
    /// A therapist's letter covers the groups they lead or co-lead and the screenings in their
    /// scope; `None` for everyone else (the whole practice).
    pub visible_groups: Option<&'a [Uuid]>,
    pub visible_screenings: Option<&'a [Uuid]>,
}

type SeatRow = (
    Uuid,
    Uuid,
    String,
    TimeZone,
    MembershipStatus,
    Option<NaiveDate>,
    Option<DateTime<Utc>>,
    Option<ExitReason>,
);

/// A held session: sequence, start, the client's status and minutes late (if recorded).
type HeldRow = (i32, DateTime<Utc>, Option<AttendanceStatus>, Option<i32>);

fn in_period(d: NaiveDate, from: Option<NaiveDate>, to: NaiveDate) -> bool {
    from.is_none_or(|f| d >= f) && d <= to
}

pub fn gather(conn: &mut PgConnection, r: &Request<'_>) -> QueryResult<Letter> {
    let (first, last, dob): (String, String, NaiveDate) = clients::table
        .find(r.client_id)
        .select((
            clients::first_name,
            clients::last_name,
            clients::date_of_birth,
        ))
        .first(conn)?;
    let to = r.period_to.map_or(r.date, |t| t.min(r.date));

    let mut q = memberships::table
        .inner_join(groups::table)
        .filter(memberships::client_id.eq(r.client_id))
        .order((memberships::created_at.asc(), memberships::id.asc()))
        .select((
            memberships::id,
            memberships::group_id,
            groups::name,
            groups::timezone,
            memberships::status,
            memberships::joined_on,
            memberships::exited_at,
            memberships::exit_reason,
        ))
        .into_boxed();
    if let Some(ids) = r.visible_groups {
        q = q.filter(memberships::group_id.eq_any(ids));
    }
    let seats: Vec<SeatRow> = q.load(conn)?;

    let mut groups_out = Vec::new();
    for (mid, gid, name, tz, status, joined_on, exited_at, exit_reason) in seats {
        let tz: Tz = tz.0;
        let held: Vec<HeldRow> = sessions::table
            .left_join(
                attendance::table.on(attendance::session_id
                    .eq(sessions::id)
                    .and(attendance::membership_id.eq(mid))),
            )
            .filter(sessions::group_id.eq(gid))
            .filter(sessions::status.eq(SessionStatus::Held))
            .order((sessions::scheduled_at.asc(), sessions::id.asc()))
            .select((
                sessions::sequence,
                sessions::scheduled_at,
                attendance::status.nullable(),
                attendance::minutes_late.nullable(),
            ))
            .load(conn)?;
        let sessions_out = held
            .into_iter()
            .filter_map(|(sequence, at, status, minutes_late)| {
                let date = at.with_timezone(&tz).date_naive();
                let seated =
                    joined_on.is_some_and(|j| date >= j) && exited_at.is_none_or(|e| at <= e);
                if !(status.is_some() || seated) || !in_period(date, r.period_from, to) {
                    return None;
                }
                Some(SessionLine {
                    sequence,
                    date,
                    status,
                    minutes_late,
                })
            })
            .collect();
        groups_out.push(GroupLines {
            group_name: name,
            membership_status: status,
            joined_on,
            exited_on: exited_at.map(|e| e.with_timezone(&tz).date_naive()),
            exit_reason,
            sessions: sessions_out,
        });
    }

    let mut sq = screenings::table
        .filter(screenings::client_id.eq(r.client_id))
        .filter(screenings::status.eq(ScreeningStatus::Completed))
        .order((screenings::completed_at.asc(), screenings::id.asc()))
        .select((screenings::completed_at, screenings::outcome))
        .into_boxed();
    if let Some(ids) = r.visible_screenings {
        sq = sq.filter(screenings::id.eq_any(ids));
    }
    let screenings_out = sq
        .load::<(Option<DateTime<Utc>>, Option<ScreeningOutcome>)>(conn)?
        .into_iter()
        .filter_map(|(at, outcome)| {
            // A completed screening has both (the table's CHECK).
            let (completed_on, outcome) = (at?.date_naive(), outcome?);
            in_period(completed_on, r.period_from, to).then_some(ScreeningLine {
                completed_on,
                outcome,
            })
        })
        .collect();

    let kind = r.consent.recipient_kind;
    Ok(Letter {
        practice_name: r.practice_name.to_string(),
        date: r.date,
        client_name: format!("{first} {last}"),
        date_of_birth: dob,
        recipient_name: r.consent.recipient_name.clone(),
        recipient_kind: kind,
        purpose: r.consent.purpose.clone(),
        consent_signed_on: r.consent.signed_at.date_naive(),
        consent_expiry: match (&r.consent.expires_on, &r.consent.expires_event) {
            (Some(d), Some(e)) => format!("{d} or {e}, whichever comes first"),
            (Some(d), None) => d.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => "not stated".into(),
        },
        information: r.information.to_vec(),
        period_from: r.period_from,
        period_to: r.period_to,
        groups: groups_out,
        screenings: screenings_out,
        released_by: r.released_by.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: i32, status: Option<AttendanceStatus>) -> SessionLine {
        SessionLine {
            sequence: seq,
            date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            status,
            minutes_late: None,
        }
    }

    #[test]
    fn totals_count_every_status() {
        use AttendanceStatus::*;
        let t = totals(&[
            line(1, Some(Present)),
            line(2, Some(Late)),
            line(3, Some(UnexcusedAbsence)),
            line(4, None),
        ]);
        assert_eq!(
            t,
            "Totals: 4 held; attended 2 (present 1, late 1, left early 0); excused absences 0; \
             unexcused absences 1; not recorded 1; attendance rate 50%."
        );
        assert_eq!(
            totals(&[]),
            "Totals: 0 held; attended 0 (present 0, late 0, left early 0); excused absences 0; \
             unexcused absences 0."
        );
    }
}
