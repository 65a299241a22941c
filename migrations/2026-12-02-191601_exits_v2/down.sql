ALTER TABLE memberships DROP CONSTRAINT memberships_rescind_check;
ALTER TABLE memberships DROP COLUMN exit_rescind_reason;
ALTER TABLE memberships DROP COLUMN exit_rescinded_at;
ALTER TABLE memberships DROP CONSTRAINT memberships_exit_reason_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_exit_reason_check CHECK (exit_reason IN
    ('completed', 'early_exit', 'dropped_out', 'discharged', 'transferred', 'other', 'withdrawn'));
