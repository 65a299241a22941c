-- Notes (SPEC §2): an ETag version for drafts, and the lifecycle held by the database too, as a
-- second line behind the application: notes are never deleted; what was signed never changes
-- (only a key rotation rewrites a signed ciphertext, and then the key id changes with it);
-- addenda are append-only and only follow a signature.

ALTER TABLE group_notes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE member_notes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE FUNCTION notes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER group_notes_guard BEFORE UPDATE OR DELETE ON group_notes
    FOR EACH ROW EXECUTE FUNCTION notes_guard();
CREATE TRIGGER member_notes_guard BEFORE UPDATE OR DELETE ON member_notes
    FOR EACH ROW EXECUTE FUNCTION notes_guard();
CREATE TRIGGER group_notes_no_truncate BEFORE TRUNCATE ON group_notes
    FOR EACH STATEMENT EXECUTE FUNCTION notes_guard();
CREATE TRIGGER member_notes_no_truncate BEFORE TRUNCATE ON member_notes
    FOR EACH STATEMENT EXECUTE FUNCTION notes_guard();

CREATE FUNCTION note_addenda_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM group_notes WHERE id = NEW.note_id AND NEW.note_kind = 'group' AND status <> 'draft')
           AND NOT EXISTS (SELECT 1 FROM member_notes WHERE id = NEW.note_id AND NEW.note_kind = 'member' AND status <> 'draft') THEN
            RAISE EXCEPTION 'an addendum follows a signed note of its kind'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.note_kind = OLD.note_kind AND NEW.note_id = OLD.note_id
           AND NEW.seq = OLD.seq AND NEW.author_id = OLD.author_id
           AND NEW.created_at = OLD.created_at AND NEW.key_id <> OLD.key_id THEN
            RETURN NEW; -- a key rotation
        END IF;
    END IF;
    RAISE EXCEPTION 'note_addenda is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER note_addenda_guard BEFORE INSERT OR UPDATE OR DELETE ON note_addenda
    FOR EACH ROW EXECUTE FUNCTION note_addenda_guard();
CREATE TRIGGER note_addenda_no_truncate BEFORE TRUNCATE ON note_addenda
    FOR EACH STATEMENT EXECUTE FUNCTION note_addenda_guard();
