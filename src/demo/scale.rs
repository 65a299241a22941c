//! `groupwork demo --scale N`: a large practice for reports and benchmarks — N active groups of
//! 12 members with 100 held weekly sessions each (N × 1,200 attendance rows), generated inside
//! PostgreSQL with set-based INSERT … SELECT, so 1,000 groups take well under a minute.

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const THERAPISTS: i64 = 20;
const MEMBERS: i64 = 12;
const SESSIONS: i64 = 100;

pub fn load(database_url: &str, groups: u32, password_hash: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=100_000).contains(&groups),
        "--scale must be between 1 and 100000"
    );
    let started = Instant::now();
    let mut conn = PgConnection::establish(database_url)?;
    let batch = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    // The hash is an argon2 PHC string: [A-Za-z0-9$=,+/] only, safe inside a literal.
    anyhow::ensure!(
        password_hash
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "$=,+/".contains(c)),
        "unexpected hash"
    );
    let sql = format!(
        r#"
SET LOCAL statement_timeout = 0;
CREATE TEMP TABLE st ON COMMIT DROP AS
  SELECT k - 1 AS k, gen_random_uuid() AS id FROM generate_series(1, {THERAPISTS}) k;
INSERT INTO users (id, email, display_name, role, password_hash)
  SELECT id, 'scale-{batch}-therapist-' || k || '@scale.groupwork.test', 'Scale Therapist ' || k, 'therapist', '{password_hash}' FROM st;
CREATE TEMP TABLE sg ON COMMIT DROP AS
  SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS contract_id,
         (current_date - ({SESSIONS} + 1) * 7 - (n % 7))::date AS start_date,
         (SELECT id FROM st WHERE k = n % {THERAPISTS}) AS lead
  FROM generate_series(1, {groups}) n;
INSERT INTO groups (id, name, lead_therapist_id, meeting_day, meeting_time, timezone, start_date, status)
  SELECT id, 'Scale group {batch} #' || n, lead, lower(trim(to_char(start_date, 'Day'))), '18:00', 'America/New_York', start_date, 'active'
  FROM sg;
INSERT INTO contracts (id, group_id, version, clauses, created_by)
  SELECT contract_id, id, 1, '{{"confidentiality": "What is said here stays here."}}'::jsonb, lead FROM sg;
CREATE TEMP TABLE sm ON COMMIT DROP AS
  SELECT sg.n, m.k, sg.id AS group_id, sg.lead, sg.contract_id, sg.start_date,
         gen_random_uuid() AS client_id, gen_random_uuid() AS screening_id, gen_random_uuid() AS membership_id
  FROM sg CROSS JOIN generate_series(1, {MEMBERS}) AS m(k);
INSERT INTO clients (id, first_name, last_name, date_of_birth, referral_source, mandated, search_text)
  SELECT client_id, 'Client', 'S' || n || '-' || k, DATE '1960-01-01' + ((n * 12 + k) % 15000),
         (ARRAY['self','court','probation','employer','physician','treatment_program','other'])[1 + (n + k) % 7],
         (n + k) % 3 = 0, 's' || n || '-' || k || ' client'
  FROM sm;
INSERT INTO screenings (id, client_id, interviewer_id, scheduled_at, status, completed_at, outcome, assessment, created_by)
  SELECT screening_id, client_id, lead, start_date - 11, 'completed', start_date - 10, 'accepted',
         '{{"motivation": 4, "contraindications": []}}'::jsonb, lead
  FROM sm;
INSERT INTO memberships (id, group_id, client_id, screening_id, status, contract_id, signed_at, signature_name, witness_id, joined_on, created_by)
  SELECT membership_id, group_id, client_id, screening_id, 'active', contract_id, start_date - 2, 'signed', lead, start_date - 2, lead
  FROM sm;
CREATE TEMP TABLE ss ON COMMIT DROP AS
  SELECT sg.id AS group_id, sg.lead, s.seq, gen_random_uuid() AS id,
         ((sg.start_date + (s.seq - 1) * 7) + TIME '18:00') AT TIME ZONE 'America/New_York' AS scheduled_at
  FROM sg CROSS JOIN generate_series(1, {SESSIONS}) AS s(seq);
INSERT INTO sessions (id, group_id, sequence, scheduled_at, duration_minutes, status)
  SELECT id, group_id, seq, scheduled_at, 90, 'held' FROM ss;
INSERT INTO attendance (session_id, membership_id, status, minutes_late, recorded_by, recorded_at)
  SELECT ss.id, sm.membership_id,
         (ARRAY['late','excused_absence','unexcused_absence','left_early','present'])[least(5, 1 + abs(hashtext(ss.id::text || sm.k)) % 20)],
         CASE WHEN abs(hashtext(ss.id::text || sm.k)) % 20 = 0 THEN 5 END,
         ss.lead, ss.scheduled_at + interval '2 hours'
  FROM ss JOIN sm ON sm.group_id = ss.group_id;
ANALYZE;
"#
    );
    conn.transaction::<_, anyhow::Error, _>(|conn| Ok(conn.batch_execute(&sql)?))?;
    println!(
        "scale data {batch}: {groups} groups, {} members, {} held sessions, {} attendance rows in {:.1} s",
        groups as i64 * MEMBERS,
        groups as i64 * SESSIONS,
        groups as i64 * MEMBERS * SESSIONS,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
