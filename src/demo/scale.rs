//! `groupwork demo --scale N`: a large practice for reports and benchmarks — N active groups of
//! 12 seats with 100 held weekly sessions each (N × 1,200 attendance rows), generated inside
//! PostgreSQL with set-based INSERT … SELECT in one transaction, so 1,000 groups take well under
//! a minute. It adds to whatever the database holds (its names carry a batch tag), so it also
//! works on an empty database.
//!
//! So that retention has something to show, in every group the first holder of seat 12 leaves
//! after session `x` (3–42, varying by group) — `completed` when that meets the 12-session
//! minimum term, otherwise dropped out, discharged, transferred or an early exit — and a
//! replacement joins two days later and holds the seat from session `x + 1`. Every held
//! session has exactly 12 attendance records.

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

const THERAPISTS: i64 = 20;
const SEATS: i64 = 12;
const SESSIONS: i64 = 100;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Loads the data and prints what it made.
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
SET LOCAL TIME ZONE 'UTC';
CREATE TEMP TABLE st ON COMMIT DROP AS
  SELECT k - 1 AS k, gen_random_uuid() AS id FROM generate_series(1, {THERAPISTS}) k;
INSERT INTO users (id, email, display_name, role, password_hash)
  SELECT id, 'scale-{batch}-therapist-' || k || '@scale.groupwork.test', 'Scale Therapist ' || k, 'therapist', '{password_hash}' FROM st;
CREATE TEMP TABLE sg ON COMMIT DROP AS
  SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS contract_id,
         (current_date - ({SESSIONS} + 1) * 7 - (n % 7))::date AS start_date,
         3 + (n * 17) % 40 AS x,
         (SELECT id FROM st WHERE k = n % {THERAPISTS}) AS lead
  FROM generate_series(1, {groups}) n;
INSERT INTO groups (id, name, lead_therapist_id, meeting_day, meeting_time, timezone, start_date, status)
  SELECT id, 'Scale group {batch} #' || n, lead, lower(trim(to_char(start_date, 'Day'))), '18:00', 'America/New_York', start_date, 'active'
  FROM sg;
INSERT INTO contracts (id, group_id, version, clauses, created_by)
  SELECT contract_id, id, 1, '{{"confidentiality": "What is said here stays here."}}'::jsonb, lead FROM sg;
CREATE TEMP TABLE ss ON COMMIT DROP AS
  SELECT sg.id AS group_id, sg.lead, s.seq, gen_random_uuid() AS id,
         ((sg.start_date + (s.seq - 1) * 7) + TIME '18:00') AT TIME ZONE 'America/New_York' AS scheduled_at
  FROM sg CROSS JOIN generate_series(1, {SESSIONS}) AS s(seq);
INSERT INTO sessions (id, group_id, sequence, scheduled_at, duration_minutes, status)
  SELECT id, group_id, seq, scheduled_at, 90, 'held' FROM ss;
-- seats 1-12 from the start; k = 13 is seat 12's replacement, from session x + 1
CREATE TEMP TABLE sm ON COMMIT DROP AS
  SELECT sg.n, m.k, sg.x, sg.id AS group_id, sg.lead, sg.contract_id, sg.start_date,
         gen_random_uuid() AS client_id, gen_random_uuid() AS screening_id, gen_random_uuid() AS membership_id,
         CASE WHEN m.k = 13 THEN (last.scheduled_at + interval '2 days')::date ELSE sg.start_date - 2 END AS joined_on,
         CASE WHEN m.k <> 12 THEN NULL WHEN sg.x >= 12 THEN 'completed'
              ELSE (ARRAY['dropped_out', 'discharged', 'transferred', 'early_exit'])[1 + sg.n % 4] END AS exit_reason,
         last.id AS last_session, last.scheduled_at AS last_at
  FROM sg CROSS JOIN generate_series(1, {SEATS} + 1) AS m(k)
  JOIN ss last ON last.group_id = sg.id AND last.seq = sg.x;
INSERT INTO clients (id, first_name, last_name, date_of_birth, referral_source, mandated, search_text)
  SELECT client_id, 'Client', 'S' || n || '-' || k, DATE '1960-01-01' + ((n * 13 + k) % 15000),
         (ARRAY['self','court','probation','employer','physician','treatment_program','other'])[1 + (n + k) % 7],
         (n + k) % 3 = 0, 's' || n || '-' || k || ' client'
  FROM sm;
-- No clinical free text (assessments, exit reasons and notes): the application seals those
-- under the notes key (src/notes/fields.rs), which SQL does not hold.
INSERT INTO screenings (id, client_id, interviewer_id, scheduled_at, status, completed_at, outcome, created_by)
  SELECT screening_id, client_id, lead, joined_on - 11, 'completed', joined_on - 10, 'accepted', lead
  FROM sm;
INSERT INTO memberships (id, group_id, client_id, screening_id, status, contract_id, signed_at, signature_name,
                         witness_id, joined_on, announced_at, planned_last_session_id,
                         exit_reason, exited_at, created_by)
  SELECT membership_id, group_id, client_id, screening_id, CASE WHEN exit_reason IS NULL THEN 'active' ELSE 'exited' END,
         contract_id, joined_on + TIME '12:00', 'signed', lead, joined_on,
         CASE WHEN exit_reason IN ('completed', 'early_exit') THEN last_at - interval '20 days' END,
         CASE WHEN exit_reason IN ('completed', 'early_exit') THEN last_session END,
         exit_reason,
         CASE WHEN exit_reason IN ('completed', 'early_exit') THEN last_at + interval '90 minutes'
              WHEN exit_reason IS NOT NULL THEN last_at + interval '1 day' END,
         lead
  FROM sm;
INSERT INTO attendance (session_id, membership_id, status, minutes_late, recorded_by, recorded_at)
  SELECT ss.id, sm.membership_id,
         (ARRAY['late','excused_absence','unexcused_absence','left_early','present'])[least(5, 1 + abs(hashtext(ss.id::text || sm.k)) % 20)],
         CASE WHEN abs(hashtext(ss.id::text || sm.k)) % 20 = 0 THEN 5 END,
         ss.lead, ss.scheduled_at + interval '2 hours'
  FROM ss JOIN sm ON sm.group_id = ss.group_id
  WHERE sm.k < 12 OR (sm.k = 12 AND ss.seq <= sm.x) OR (sm.k = 13 AND ss.seq > sm.x);
ANALYZE;
"#
    );
    conn.transaction::<_, anyhow::Error, _>(|conn| Ok(conn.batch_execute(&sql)?))?;
    let count = |conn: &mut PgConnection, sql: String| -> QueryResult<i64> {
        Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
    };
    let tagged =
        format!("JOIN groups g ON g.id = m.group_id WHERE g.name LIKE 'Scale group {batch} #%'");
    let memberships = count(
        &mut conn,
        format!("SELECT count(*) AS n FROM memberships m {tagged}"),
    )?;
    let exited = count(
        &mut conn,
        format!("SELECT count(*) AS n FROM memberships m {tagged} AND m.status = 'exited'"),
    )?;
    let rows = count(
        &mut conn,
        format!("SELECT count(*) AS n FROM attendance a JOIN memberships m ON m.id = a.membership_id {tagged}"),
    )?;
    println!(
        "scale data {batch}: {THERAPISTS} therapists (scale-{batch}-therapist-0…{}@scale.groupwork.test, \
         demo password), {groups} active groups, {memberships} memberships ({exited} exited, as many \
         replacements), {} held sessions, {rows} attendance rows, in {:.1} s",
        THERAPISTS - 1,
        groups as i64 * SESSIONS,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
