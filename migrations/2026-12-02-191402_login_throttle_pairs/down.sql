DROP INDEX password_reset_tokens_expires_idx;
DROP INDEX refresh_tokens_expires_idx;
DELETE FROM login_attempts;
DROP INDEX login_attempts_attempted_idx;
DROP INDEX login_attempts_address_idx;
DROP INDEX login_attempts_pair_idx;
ALTER TABLE login_attempts
    DROP COLUMN counts_for_address,
    DROP COLUMN email_hash,
    ADD COLUMN email_lower TEXT NOT NULL;
CREATE INDEX login_attempts_email_idx ON login_attempts (email_lower, attempted_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, attempted_at);
