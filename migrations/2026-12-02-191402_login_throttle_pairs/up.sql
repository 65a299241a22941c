-- Login throttling per (account, address) and per address for unknown accounts (SPEC §3 v2,
-- issue 14). The attempted email is kept only as a keyed hash (HMAC-SHA256 under a key derived
-- from GROUPWORK_JWT_SECRET), so the table never holds an email, or a password typed into the
-- email field, in the clear. The old rows hold emails in the clear and cannot be hashed here:
-- they go (they only ever mattered for 15 minutes).
DELETE FROM login_attempts;
DROP INDEX login_attempts_email_idx;
DROP INDEX login_attempts_ip_idx;
ALTER TABLE login_attempts
    DROP COLUMN email_lower,
    ADD COLUMN email_hash BYTEA NOT NULL,
    -- an attempt on an account that does not exist, counted towards its address's limit
    ADD COLUMN counts_for_address BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX login_attempts_pair_idx ON login_attempts (email_hash, ip, attempted_at);
CREATE INDEX login_attempts_address_idx ON login_attempts (ip, attempted_at)
    WHERE counts_for_address AND NOT succeeded;
-- the periodic pruning (rows older than 30 days)
CREATE INDEX login_attempts_attempted_idx ON login_attempts (attempted_at);
-- the periodic pruning of expired refresh and reset tokens
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX password_reset_tokens_expires_idx ON password_reset_tokens (expires_at);
