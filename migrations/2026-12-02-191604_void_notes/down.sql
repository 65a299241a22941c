-- Irreversible once a note was voided or replaced; for an empty development database only.
DROP INDEX member_notes_session_idx;
DROP INDEX member_notes_live;
ALTER TABLE member_notes ADD CONSTRAINT member_notes_session_id_membership_id_key UNIQUE (session_id, membership_id);
DROP INDEX group_notes_session_idx;
DROP INDEX group_notes_live;
ALTER TABLE group_notes ADD CONSTRAINT group_notes_session_id_key UNIQUE (session_id);
ALTER TABLE member_notes DROP CONSTRAINT member_notes_void_check, DROP COLUMN voided_at, DROP COLUMN voided_by, DROP COLUMN void_reason;
ALTER TABLE group_notes DROP CONSTRAINT group_notes_void_check, DROP COLUMN voided_at, DROP COLUMN voided_by, DROP COLUMN void_reason;
ALTER TABLE member_notes DROP CONSTRAINT member_notes_status_check;
ALTER TABLE member_notes ADD CONSTRAINT member_notes_status_check CHECK (status IN ('draft', 'signed', 'cosigned'));
ALTER TABLE group_notes DROP CONSTRAINT group_notes_status_check;
ALTER TABLE group_notes ADD CONSTRAINT group_notes_status_check CHECK (status IN ('draft', 'signed', 'cosigned'));
