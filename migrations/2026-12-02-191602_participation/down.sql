ALTER TABLE groups DROP COLUMN completion_attendance_rate;
