-- Separation of duties (SPEC §1 v2, issue 14): clinical accounts made or promoted by an
-- administrator wait for a supervisor's approval; passwords are reset with one-time tokens.

-- `approved` for every existing account and for accounts made from the console
-- (`groupwork create-user`, the demo); the API sets `pending` where SPEC §1 says so.
ALTER TABLE users
    ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved'
        CHECK (approval IN ('approved', 'pending')),
    ADD COLUMN approval_requested_by UUID REFERENCES users (id),
    ADD COLUMN approval_requested_at TIMESTAMPTZ,
    ADD COLUMN approved_by UUID REFERENCES users (id),
    ADD COLUMN approved_at TIMESTAMPTZ,
    -- Nobody approves their own account, not even by a direct UPDATE.
    ADD CONSTRAINT users_not_self_approved CHECK (approved_by IS NULL OR approved_by <> id),
    -- A pending account says since when (the approvals queue is in that order).
    ADD CONSTRAINT users_pending_since CHECK (approval = 'approved' OR approval_requested_at IS NOT NULL);
CREATE INDEX users_pending_approval_idx ON users (approval_requested_at, id)
    WHERE approval = 'pending';

-- One-time password-reset tokens: only a SHA-256 of the token is stored; valid 24 hours;
-- used once; a newer token (or a redemption) revokes the older ones.
CREATE TABLE password_reset_tokens (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    token_hash  BYTEA NOT NULL UNIQUE,
    issued_by   UUID NOT NULL REFERENCES users (id),
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);
