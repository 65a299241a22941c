-- Exits v2 (SPEC §2): the extended discharge reasons and `group_ended`; a rescinded exit
-- notice keeps when and why it was taken back.
ALTER TABLE memberships DROP CONSTRAINT memberships_exit_reason_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_exit_reason_check CHECK (exit_reason IN
    ('completed', 'early_exit', 'dropped_out', 'discharged', 'against_advice',
     'higher_level_of_care', 'hospitalized', 'incarcerated', 'relocated', 'transferred',
     'other', 'withdrawn', 'group_ended'));

ALTER TABLE memberships ADD COLUMN exit_rescinded_at TIMESTAMPTZ;
ALTER TABLE memberships ADD COLUMN exit_rescind_reason TEXT;
ALTER TABLE memberships ADD CONSTRAINT memberships_rescind_check
    CHECK ((exit_rescinded_at IS NULL) = (exit_rescind_reason IS NULL));
