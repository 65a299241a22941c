//! 42 CFR Part 2 in the demo practice (SPEC §8): a court-mandated member with a signed court
//! consent and one disclosure made under it (its PDF letter), and an emergency access by a
//! therapist outside the client's care team, awaiting a supervisor's review.

use chrono::{Duration, DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{DemoGroups, DemoStaff};
use crate::consents::ConsentRow;
use crate::disclosures::letter::{self, Request};
use crate::disclosures::model::document_aad;
use crate::domain::client::ReferralSource;
use crate::domain::consent::{InformationKind, RecipientKind};
use crate::notes::crypto::NotesCipher;
use crate::schema::{clients, consents, disclosures, emergency_access, memberships, users};

pub fn load(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    staff: &DemoStaff,
    groups: &DemoGroups,
) -> anyhow::Result<()> {
    let now = Utc::now().duration_trunc(TimeDelta::microseconds(1))?;
    let today = now.date_naive();
    let practice_name = crate::config::practice_name(&crate::config::ProcessEnv)?;

    // The mandated member: a court referral seated in the active group.
    let seated: Vec<(Uuid, ReferralSource, bool)> = memberships::table
        .inner_join(clients::table)
        .filter(memberships::id.eq_any(&groups.active_members))
        .select((clients::id, clients::referral_source, clients::mandated))
        .load(conn)?;
    let client_id = match seated
        .iter()
        .find(|(_, s, m)| *s == ReferralSource::Court && *m)
    {
        Some((id, _, _)) => *id,
        None => {
            let id = seated
                .first()
                .map(|(id, _, _)| *id)
                .ok_or_else(|| anyhow::anyhow!("the demo's active group has no member"))?;
            diesel::update(clients::table.find(id))
                .set((
                    clients::referral_source.eq(ReferralSource::Court),
                    clients::mandated.eq(true),
                ))
                .execute(conn)?;
            id
        }
    };
    let (first, last): (String, String) = clients::table
        .find(client_id)
        .select((clients::first_name, clients::last_name))
        .first(conn)?;

    let consent: ConsentRow = diesel::insert_into(consents::table)
        .values((
            consents::id.eq(Uuid::new_v4()),
            consents::client_id.eq(client_id),
            consents::recipient_name.eq("Marion County Drug Court"),
            consents::recipient_kind.eq(RecipientKind::Court),
            consents::purpose.eq("Monthly attendance report to the supervising judge"),
            consents::information.eq(vec![
                InformationKind::Attendance,
                InformationKind::MembershipStatus,
            ]),
            consents::effective_on.eq(today - Duration::days(60)),
            consents::expires_on.eq(Some(today + Duration::days(305))),
            consents::expires_event.eq(Some("the end of the client's drug court program")),
            consents::signed_at.eq(now - Duration::days(60)),
            consents::signature_name.eq(format!("{first} {last}")),
            consents::witness_id.eq(staff.intake),
        ))
        .returning(ConsentRow::as_returning())
        .get_result(conn)?;

    // One disclosure under it: last month's attendance, released by the supervisor.
    let released_by: String = users::table
        .find(staff.supervisor)
        .select(users::display_name)
        .first(conn)?;
    let information = [
        InformationKind::Attendance,
        InformationKind::MembershipStatus,
    ];
    let from = today - Duration::days(30);
    let pdf = letter::gather(
        conn,
        &Request {
            practice_name: &practice_name,
            date: today,
            client_id,
            consent: &consent,
            information: &information,
            period_from: Some(from),
            period_to: Some(today),
            released_by: &released_by,
            visible_groups: None,
            visible_screenings: None,
        },
    )?
    .pdf();
    let digest = crate::disclosures::sha256(&pdf);
    let id = Uuid::new_v4();
    let sealed = cipher.seal(&document_aad(id, client_id, &digest), &pdf);
    diesel::insert_into(disclosures::table)
        .values((
            disclosures::id.eq(id),
            disclosures::client_id.eq(client_id),
            disclosures::consent_id.eq(consent.id),
            disclosures::recipient_name.eq(&consent.recipient_name),
            disclosures::information.eq(vec![
                InformationKind::Attendance,
                InformationKind::MembershipStatus,
            ]),
            disclosures::period_from.eq(Some(from)),
            disclosures::period_to.eq(Some(today)),
            disclosures::disclosed_at.eq(now),
            disclosures::disclosed_by.eq(staff.supervisor),
            disclosures::document_sha256.eq(&digest),
            disclosures::key_id.eq(&sealed.key_id),
            disclosures::nonce.eq(&sealed.nonce),
            disclosures::ciphertext.eq(&sealed.ciphertext),
        ))
        .execute(conn)?;

    // An emergency access an hour old, by a therapist outside the client's care team.
    let mut outsider = None;
    for t in &staff.therapists {
        if !crate::auth::scope::is_client_in_care_team(conn, *t, client_id)? {
            outsider = Some(*t);
            break;
        }
    }
    let therapist = outsider
        .or(staff.therapists.last().copied())
        .ok_or_else(|| anyhow::anyhow!("the demo has no therapist"))?;
    let granted_at = now - Duration::hours(1);
    diesel::insert_into(emergency_access::table)
        .values((
            emergency_access::id.eq(Uuid::new_v4()),
            emergency_access::client_id.eq(client_id),
            emergency_access::granted_to.eq(therapist),
            emergency_access::reason.eq(
                "Client arrived intoxicated at the evening walk-in clinic; on-call clinician \
                 needs the treatment history to assess risk.",
            ),
            emergency_access::granted_at.eq(granted_at),
            emergency_access::expires_at
                .eq(crate::domain::emergency_access::expires_at(granted_at)),
        ))
        .execute(conn)?;
    Ok(())
}
