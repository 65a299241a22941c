-- 42 CFR Part 2 (SPEC §8): written consents (§2.31), the accounting of disclosures made under
-- them (§2.24) with the document each one released, and break-glass emergency access (§2.51).
-- The database keeps the rules that must never bend: revocation is final, a disclosure and
-- its document never change (but for a notes-key rotation), a grant's review is written once,
-- and none of these rows is ever deleted.

CREATE TABLE consents (
    id                UUID PRIMARY KEY,
    client_id         UUID NOT NULL REFERENCES clients (id),
    recipient_name    TEXT NOT NULL,
    recipient_kind    TEXT NOT NULL CHECK (recipient_kind IN
        ('court', 'probation', 'employer', 'physician', 'treatment_program', 'family', 'other')),
    purpose           TEXT NOT NULL,
    information       TEXT[] NOT NULL CHECK (cardinality(information) > 0 AND information <@
        ARRAY['attendance', 'membership_status', 'screening_outcome', 'record']),
    effective_on      DATE NOT NULL,
    expires_on        DATE,
    expires_event     TEXT,
    signed_at         TIMESTAMPTZ NOT NULL,
    signature_name    TEXT NOT NULL,
    witness_id        UUID NOT NULL REFERENCES users (id),
    revoked_at        TIMESTAMPTZ,
    revoked_by        UUID REFERENCES users (id),
    revocation_reason TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (expires_on IS NOT NULL OR expires_event IS NOT NULL),
    CHECK (expires_on IS NULL OR expires_on >= effective_on),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)
           AND (revoked_at IS NULL) = (revocation_reason IS NULL))
);
CREATE INDEX consents_client_idx ON consents (client_id, created_at DESC, id DESC);

CREATE FUNCTION consents_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION '% is refused on consents: a consent is kept for the record', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'a revoked consent is final' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'revoked_at' - 'revoked_by' - 'revocation_reason')
       <> (to_jsonb(OLD) - 'revoked_at' - 'revoked_by' - 'revocation_reason') THEN
        RAISE EXCEPTION 'a consent changes only by its revocation'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER consents_guard BEFORE UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION consents_guard();
CREATE TRIGGER consents_no_truncate BEFORE TRUNCATE ON consents
    FOR EACH STATEMENT EXECUTE FUNCTION consents_guard();

CREATE TABLE disclosures (
    id              UUID PRIMARY KEY,
    client_id       UUID NOT NULL REFERENCES clients (id),
    consent_id      UUID NOT NULL REFERENCES consents (id),
    recipient_name  TEXT NOT NULL,
    information     TEXT[] NOT NULL CHECK (cardinality(information) > 0 AND information <@
        ARRAY['attendance', 'membership_status', 'screening_outcome', 'record']),
    period_from     DATE,
    period_to       DATE,
    disclosed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    disclosed_by    UUID NOT NULL REFERENCES users (id),
    -- SHA-256 of the PDF as released; the PDF itself is kept encrypted under the notes key
    -- (associated data: the disclosure's id), so the same bytes can be served again.
    document_sha256 BYTEA NOT NULL CHECK (octet_length(document_sha256) = 32),
    key_id          TEXT NOT NULL,
    nonce           BYTEA NOT NULL,
    ciphertext      BYTEA NOT NULL,
    CHECK (period_from IS NULL OR period_to IS NULL OR period_from <= period_to)
);
CREATE INDEX disclosures_client_idx ON disclosures (client_id, disclosed_at DESC, id DESC);

CREATE FUNCTION disclosures_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'key_id' - 'nonce' - 'ciphertext')
           = (to_jsonb(OLD) - 'key_id' - 'nonce' - 'ciphertext')
       AND NEW.key_id <> OLD.key_id THEN
        RETURN NEW; -- a notes-key rotation
    END IF;
    RAISE EXCEPTION '% is refused on disclosures: the accounting of disclosures is append-only', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER disclosures_guard BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION disclosures_guard();
CREATE TRIGGER disclosures_no_truncate BEFORE TRUNCATE ON disclosures
    FOR EACH STATEMENT EXECUTE FUNCTION disclosures_guard();

CREATE TABLE emergency_access (
    id             UUID PRIMARY KEY,
    client_id      UUID NOT NULL REFERENCES clients (id),
    granted_to     UUID NOT NULL REFERENCES users (id),
    reason         TEXT NOT NULL CHECK (char_length(reason) >= 20),
    granted_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL,
    reviewed_at    TIMESTAMPTZ,
    reviewed_by    UUID REFERENCES users (id),
    review_outcome TEXT CHECK (review_outcome IN ('appropriate', 'inappropriate')),
    review_note    TEXT,
    CHECK (expires_at = granted_at + interval '4 hours'),
    CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL)
           AND (reviewed_at IS NULL) = (review_outcome IS NULL)
           AND (reviewed_at IS NULL) = (review_note IS NULL))
);
-- the scope check: a therapist's live grants for a client
CREATE INDEX emergency_access_grantee_idx ON emergency_access (granted_to, client_id, expires_at);
-- the supervisors' queue
CREATE INDEX emergency_access_queue_idx ON emergency_access (granted_at, id) WHERE reviewed_at IS NULL;

CREATE FUNCTION emergency_access_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.reviewed_at IS NULL
       AND (to_jsonb(NEW) - 'reviewed_at' - 'reviewed_by' - 'review_outcome' - 'review_note')
           = (to_jsonb(OLD) - 'reviewed_at' - 'reviewed_by' - 'review_outcome' - 'review_note') THEN
        RETURN NEW; -- the one review
    END IF;
    RAISE EXCEPTION '% is refused on emergency_access: a grant is kept as made, and reviewed once', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER emergency_access_guard BEFORE UPDATE OR DELETE ON emergency_access
    FOR EACH ROW EXECUTE FUNCTION emergency_access_guard();
CREATE TRIGGER emergency_access_no_truncate BEFORE TRUNCATE ON emergency_access
    FOR EACH STATEMENT EXECUTE FUNCTION emergency_access_guard();
