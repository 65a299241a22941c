-- Re-signing an amended agreement (SPEC §2, v2): every signature a member gives, oldest first.
-- The membership's own contract_id/signed_at/signature_name/witness_id stay the admission's
-- signature (signed_at decides the first session the member is seated at).
CREATE TABLE membership_signatures (
    id             UUID PRIMARY KEY,
    membership_id  UUID NOT NULL REFERENCES memberships (id),
    contract_id    UUID NOT NULL REFERENCES contracts (id),
    signed_at      TIMESTAMPTZ NOT NULL,
    signature_name TEXT NOT NULL,
    witness_id     UUID NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- one signature per version: a concurrent second re-sign fails here too
    UNIQUE (membership_id, contract_id)
);

INSERT INTO membership_signatures (id, membership_id, contract_id, signed_at, signature_name, witness_id, created_at)
SELECT gen_random_uuid(), m.id, m.contract_id, m.signed_at, m.signature_name, m.witness_id, m.signed_at
FROM memberships m
WHERE m.contract_id IS NOT NULL AND m.signed_at IS NOT NULL
  AND m.signature_name IS NOT NULL AND m.witness_id IS NOT NULL;

-- Signatures are records: never changed, never deleted.
CREATE FUNCTION membership_signatures_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is refused on membership_signatures: signatures are never changed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER membership_signatures_guard BEFORE UPDATE OR DELETE ON membership_signatures
    FOR EACH ROW EXECUTE FUNCTION membership_signatures_guard();
