-- The sealed texts cannot be decrypted in SQL: going down loses them (a rescinded exit keeps a
-- placeholder reason so the old constraint holds).
UPDATE memberships SET exit_rescind_reason = '(sealed text dropped by a downgrade)'
    WHERE exit_rescind_reason IS NULL AND exit_rescind_reason_sealed IS NOT NULL;
ALTER TABLE memberships DROP CONSTRAINT memberships_rescind_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_rescind_check
    CHECK ((exit_rescinded_at IS NULL) = (exit_rescind_reason IS NULL));
ALTER TABLE memberships
    DROP COLUMN override_reason_sealed,
    DROP COLUMN exit_notice_reason_sealed,
    DROP COLUMN exit_note_sealed,
    DROP COLUMN exit_rescind_reason_sealed;
ALTER TABLE screenings DROP COLUMN assessment_sealed;
COMMENT ON COLUMN screenings.assessment IS NULL;
COMMENT ON COLUMN memberships.override_reason IS NULL;
COMMENT ON COLUMN memberships.exit_notice_reason IS NULL;
COMMENT ON COLUMN memberships.exit_note IS NULL;
COMMENT ON COLUMN memberships.exit_rescind_reason IS NULL;
