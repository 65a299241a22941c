-- Completion means attending (SPEC §2, v2): the share of the sessions held while seated that a
-- member must have attended for a finished stay to count as `completed`.
ALTER TABLE groups ADD COLUMN completion_attendance_rate DOUBLE PRECISION NOT NULL DEFAULT 0.75
    CHECK (completion_attendance_rate >= 0 AND completion_attendance_rate <= 1);
