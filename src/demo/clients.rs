//! Demo clients (a realistic mix of referral sources, mandated and voluntary) and screenings in
//! every status.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::DemoStaff;
use crate::clients::model::search_text;
use crate::domain::client::{Gender, ReferralSource};
use crate::domain::screening::{Outcome, ScreeningStatus};
use crate::schema::{clients, screenings};

const FIRST: &[&str] = &[
    "Ana", "Marcus", "Jamal", "Priya", "Tomás", "Keisha", "Daniel", "Mei", "Olivia", "Rafael",
    "Grace", "Dmitri", "Fatima", "Lucas", "Hannah", "Kofi", "Sofía", "Noah", "Aisha", "Ethan",
    "Chloé", "Samir", "Leah", "Bruno", "Ingrid", "Mateo", "Nadia", "Owen", "Yara", "Zeke", "Ruth",
    "Tariq", "Elif",
];
const LAST: &[&str] = &[
    "Silva",
    "Johnson",
    "Carter",
    "Patel",
    "Hernández",
    "Brown",
    "Kim",
    "Chen",
    "Walsh",
    "Moreno",
    "Okafor",
    "Petrov",
    "Haddad",
    "Rossi",
    "Becker",
    "Mensah",
    "Núñez",
    "Fischer",
    "Rahman",
    "Murphy",
    "Dubois",
    "Aziz",
    "Cohen",
    "Costa",
    "Larsen",
    "López",
    "Ivanova",
    "Byrne",
    "Saleh",
    "Novak",
    "Alvarado",
    "Ebrahimi",
    "Şahin",
];
const SOURCES: &[(ReferralSource, bool)] = &[
    (ReferralSource::SelfReferred, false),
    (ReferralSource::Court, true),
    (ReferralSource::Probation, true),
    (ReferralSource::Employer, false),
    (ReferralSource::Physician, false),
    (ReferralSource::TreatmentProgram, false),
    (ReferralSource::SelfReferred, false),
    (ReferralSource::Court, true),
    (ReferralSource::Other, false),
    (ReferralSource::TreatmentProgram, false),
];

/// Gender by position in `FIRST` (v2): a mix, with one nonbinary client and one who did not
/// disclose, so that groups show composition warnings (TIP 41).
const GENDERS: &[Gender] = &[
    Gender::Woman,
    Gender::Man,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Nonbinary,
    Gender::Man,
    Gender::Woman,
    Gender::Man,
    Gender::Undisclosed,
];

pub struct DemoClients {
    /// Clients with a recent accepted screening: (client, screening), oldest screening first.
    pub accepted: Vec<(Uuid, Uuid)>,
}

pub fn load(conn: &mut PgConnection, staff: &DemoStaff) -> anyhow::Result<DemoClients> {
    let now = Utc::now();
    let mut accepted = Vec::new();
    for (i, (first, last)) in FIRST.iter().zip(LAST).enumerate() {
        let (source, mandated) = SOURCES[i % SOURCES.len()];
        let client_id = Uuid::new_v4();
        let preferred = (i % 6 == 0).then(|| format!("{}y", &first[..2]));
        let dob = NaiveDate::from_ymd_opt(
            1965 + (i as i32 * 7) % 38,
            1 + (i as u32 * 5) % 12,
            1 + (i as u32 * 11) % 28,
        )
        .expect("valid date");
        diesel::insert_into(clients::table)
            .values((
                clients::id.eq(client_id),
                clients::first_name.eq(first),
                clients::last_name.eq(last),
                clients::preferred_name.eq(&preferred),
                clients::date_of_birth.eq(dob),
                clients::phone.eq(format!("+1 555 01{:02} {:04}", i, 1000 + i * 37)),
                clients::email.eq((i % 3 != 0).then(|| format!("client{i}@example.org"))),
                clients::referral_source.eq(source),
                clients::mandated.eq(mandated),
                clients::gender.eq(GENDERS.get(i).copied()),
                clients::search_text.eq(search_text(first, last, preferred.as_deref())),
                clients::created_at.eq(now - Duration::days(200 - i as i64)),
            ))
            .execute(conn)?;
        let interviewer = if i % 4 == 0 {
            staff.supervisor
        } else {
            staff.therapists[i % staff.therapists.len()]
        };
        // 26 accepted: the first 11 long ago (members of the active group), the next 5 for the
        // forming group, the rest recently (the waitlist); then every other status and outcome,
        // and an accepted screening past its 90 days (not on the waitlist).
        let (status, outcome, days_ago) = match i {
            0..=10 => (
                ScreeningStatus::Completed,
                Some(Outcome::Accepted),
                175 - i as i64,
            ),
            11..=15 => (
                ScreeningStatus::Completed,
                Some(Outcome::Accepted),
                40 - i as i64,
            ),
            16..=25 => (
                ScreeningStatus::Completed,
                Some(Outcome::Accepted),
                60 - i as i64 * 2,
            ),
            26 => (ScreeningStatus::Completed, Some(Outcome::Declined), 10),
            27 => (ScreeningStatus::Scheduled, None, -3),
            28 => (ScreeningStatus::Cancelled, None, 5),
            29 => (ScreeningStatus::NoShow, None, 4),
            30 => (ScreeningStatus::Completed, Some(Outcome::Deferred), 12),
            31 => (
                ScreeningStatus::Completed,
                Some(Outcome::ReferredElsewhere),
                20,
            ),
            _ => (ScreeningStatus::Completed, Some(Outcome::Accepted), 120),
        };
        let scheduled_at = now - Duration::days(days_ago) - Duration::hours(2);
        let screening_id = Uuid::new_v4();
        let assessment = outcome.map(|o| {
            let accepted = o == Outcome::Accepted;
            let contraindications = if accepted {
                json!([])
            } else {
                json!(["cannot_tolerate_group"])
            };
            json!({
                "motivation": if accepted { 3 + i % 3 } else { 2 },
                "contraindications": contraindications,
                "concurrent_therapies": "Individual counselling every other week.",
                "substance_use_summary": "Alcohol; in early recovery.",
                "notes": "Motivated by family; some anxiety about speaking in groups."
            })
        });
        diesel::insert_into(screenings::table)
            .values((
                screenings::id.eq(screening_id),
                screenings::client_id.eq(client_id),
                screenings::interviewer_id.eq(interviewer),
                screenings::scheduled_at.eq(scheduled_at),
                screenings::status.eq(status),
                screenings::completed_at.eq(outcome.map(|_| scheduled_at + Duration::hours(1))),
                screenings::outcome.eq(outcome),
                screenings::assessment.eq(assessment),
                screenings::created_by.eq(staff.intake),
            ))
            .execute(conn)?;
        // The members of the active group were screened long ago; the last client's screening
        // simply ran out before anyone admitted them.
        let expired_unseated = i == FIRST.len() - 1;
        if outcome == Some(Outcome::Accepted) && !expired_unseated {
            accepted.push((client_id, screening_id));
        }
    }
    Ok(DemoClients { accepted })
}
