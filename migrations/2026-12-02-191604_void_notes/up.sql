-- Notes entered in error (SPEC §2, v2): a note is voided with a reason, kept (supervisors can
-- still read it), never exported, never counted as documentation. A replacement may then be
-- written for the same session (and member): only live notes are unique.
ALTER TABLE group_notes DROP CONSTRAINT group_notes_status_check;
ALTER TABLE group_notes ADD CONSTRAINT group_notes_status_check
    CHECK (status IN ('draft', 'signed', 'cosigned', 'voided'));
ALTER TABLE member_notes DROP CONSTRAINT member_notes_status_check;
ALTER TABLE member_notes ADD CONSTRAINT member_notes_status_check
    CHECK (status IN ('draft', 'signed', 'cosigned', 'voided'));

ALTER TABLE group_notes ADD COLUMN voided_at TIMESTAMPTZ,
    ADD COLUMN voided_by UUID REFERENCES users (id),
    ADD COLUMN void_reason TEXT,
    ADD CONSTRAINT group_notes_void_check CHECK ((status = 'voided') =
        (voided_at IS NOT NULL AND voided_by IS NOT NULL AND void_reason IS NOT NULL));
ALTER TABLE member_notes ADD COLUMN voided_at TIMESTAMPTZ,
    ADD COLUMN voided_by UUID REFERENCES users (id),
    ADD COLUMN void_reason TEXT,
    ADD CONSTRAINT member_notes_void_check CHECK ((status = 'voided') =
        (voided_at IS NOT NULL AND voided_by IS NOT NULL AND void_reason IS NOT NULL));

ALTER TABLE group_notes DROP CONSTRAINT group_notes_session_id_key;
CREATE UNIQUE INDEX group_notes_live ON group_notes (session_id) WHERE status <> 'voided';
CREATE INDEX group_notes_session_idx ON group_notes (session_id);
ALTER TABLE member_notes DROP CONSTRAINT member_notes_session_id_membership_id_key;
CREATE UNIQUE INDEX member_notes_live ON member_notes (session_id, membership_id)
    WHERE status <> 'voided';
CREATE INDEX member_notes_session_idx ON member_notes (session_id, membership_id);

-- The lifecycle guard learns `voided`: voiding changes only the status and the void columns;
-- a voided note never changes again (only a key rotation may reseal it).
CREATE OR REPLACE FUNCTION notes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION '% is refused on %: notes are never deleted', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.session_id <> OLD.session_id OR NEW.author_id <> OLD.author_id
       OR NEW.created_at <> OLD.created_at
       OR (TG_TABLE_NAME = 'member_notes'
           AND to_jsonb(NEW) ->> 'membership_id' <> to_jsonb(OLD) ->> 'membership_id') THEN
        RAISE EXCEPTION 'a note never moves to another row or author'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status = 'voided' OR NEW.status = 'voided' THEN
        IF NEW.status <> 'voided'
           OR NEW.signed_by IS DISTINCT FROM OLD.signed_by
           OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
           OR NEW.cosigned_by IS DISTINCT FROM OLD.cosigned_by
           OR NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at
           OR (OLD.status = 'voided' AND (NEW.voided_at IS DISTINCT FROM OLD.voided_at
                                          OR NEW.voided_by IS DISTINCT FROM OLD.voided_by
                                          OR NEW.void_reason IS DISTINCT FROM OLD.void_reason))
           OR ((NEW.ciphertext <> OLD.ciphertext OR NEW.nonce <> OLD.nonce)
               AND NEW.key_id = OLD.key_id) THEN
            RAISE EXCEPTION 'a voided note never changes (voiding changes only its status)'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status <> 'draft' AND (
           NEW.status = 'draft'
           OR (OLD.status = 'cosigned' AND NEW.status <> 'cosigned')
           OR NEW.signed_by IS DISTINCT FROM OLD.signed_by
           OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
           OR (OLD.cosigned_at IS NOT NULL AND (NEW.cosigned_by IS DISTINCT FROM OLD.cosigned_by
                                               OR NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at))
           OR ((NEW.ciphertext <> OLD.ciphertext OR NEW.nonce <> OLD.nonce)
               AND NEW.key_id = OLD.key_id)) THEN
        RAISE EXCEPTION 'a signed note is immutable (only its co-signature and a key rotation may follow)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
