-- Issue 15 (5), SPEC §2 v2: screening assessments, admission-override, exit-notice and
-- exit-rescind reasons and discharge notes are encrypted at rest like notes. The application
-- seals them (AES-256-GCM under GROUPWORK_NOTES_KEY, the table, column and row id as associated
-- data) into these columns; see src/notes/fields.rs. SQL cannot encrypt without the key, so the
-- old plain columns stay for rows written before: `groupwork serve` (at start-up) and
-- `groupwork rotate-notes-key` seal their text here and clear the plain column. Nothing writes
-- the plain columns any more.
ALTER TABLE screenings ADD COLUMN assessment_sealed BYTEA;
ALTER TABLE memberships
    ADD COLUMN override_reason_sealed BYTEA,
    ADD COLUMN exit_notice_reason_sealed BYTEA,
    ADD COLUMN exit_note_sealed BYTEA,
    ADD COLUMN exit_rescind_reason_sealed BYTEA;

ALTER TABLE memberships DROP CONSTRAINT memberships_rescind_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_rescind_check
    CHECK ((exit_rescinded_at IS NULL) = (exit_rescind_reason IS NULL AND exit_rescind_reason_sealed IS NULL));

COMMENT ON COLUMN screenings.assessment IS 'legacy plain form; sealed into assessment_sealed by the application';
COMMENT ON COLUMN memberships.override_reason IS 'legacy plain form; sealed into override_reason_sealed by the application';
COMMENT ON COLUMN memberships.exit_notice_reason IS 'legacy plain form; sealed into exit_notice_reason_sealed by the application';
COMMENT ON COLUMN memberships.exit_note IS 'legacy plain form; sealed into exit_note_sealed by the application';
COMMENT ON COLUMN memberships.exit_rescind_reason IS 'legacy plain form; sealed into exit_rescind_reason_sealed by the application';
