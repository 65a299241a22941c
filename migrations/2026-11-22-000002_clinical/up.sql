-- Clients, screenings, groups, agreements, memberships, sessions, attendance, notes (SPEC §2).

CREATE TABLE clients (
    id              UUID PRIMARY KEY,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    preferred_name  TEXT,
    date_of_birth   DATE NOT NULL,
    phone           TEXT,
    email           TEXT,
    referral_source TEXT NOT NULL CHECK (referral_source IN
        ('self', 'court', 'probation', 'employer', 'physician', 'treatment_program', 'other')),
    mandated        BOOLEAN NOT NULL DEFAULT FALSE,
    -- lower-case, accent-free names for ?q= search, computed by the application
    search_text     TEXT NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX clients_created_idx ON clients (created_at, id);
CREATE INDEX clients_search_idx ON clients (search_text, id);

CREATE TABLE groups (
    id                      UUID PRIMARY KEY,
    name                    TEXT NOT NULL,
    lead_therapist_id       UUID NOT NULL REFERENCES users (id),
    co_therapist_ids        UUID[] NOT NULL DEFAULT '{}',
    min_size                INTEGER NOT NULL DEFAULT 8,
    max_size                INTEGER NOT NULL DEFAULT 15,
    meeting_day             TEXT NOT NULL CHECK (meeting_day IN
        ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')),
    meeting_time            TIME NOT NULL,
    timezone                TEXT NOT NULL DEFAULT 'UTC',
    duration_minutes        INTEGER NOT NULL DEFAULT 90,
    min_term_sessions       INTEGER NOT NULL DEFAULT 12,
    exit_notice_sessions    INTEGER NOT NULL DEFAULT 3,
    absence_alert_threshold INTEGER NOT NULL DEFAULT 3,
    start_date              DATE NOT NULL,
    end_date                DATE,
    status                  TEXT NOT NULL DEFAULT 'forming' CHECK (status IN
        ('forming', 'active', 'completed', 'cancelled')),
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (8 <= min_size AND min_size <= max_size AND max_size <= 15),
    CHECK (duration_minutes BETWEEN 30 AND 180),
    CHECK (min_term_sessions BETWEEN 1 AND 52),
    CHECK (exit_notice_sessions BETWEEN 1 AND 6),
    CHECK (absence_alert_threshold BETWEEN 1 AND 10),
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX groups_lead_idx ON groups (lead_therapist_id);
CREATE INDEX groups_co_idx ON groups USING GIN (co_therapist_ids);

CREATE TABLE screenings (
    id               UUID PRIMARY KEY,
    client_id        UUID NOT NULL REFERENCES clients (id),
    interviewer_id   UUID NOT NULL REFERENCES users (id),
    group_id         UUID REFERENCES groups (id),
    scheduled_at     TIMESTAMPTZ NOT NULL,
    status           TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN
        ('scheduled', 'completed', 'cancelled', 'no_show')),
    completed_at     TIMESTAMPTZ,
    outcome          TEXT CHECK (outcome IN ('accepted', 'deferred', 'declined', 'referred_elsewhere')),
    -- clinical content; never returned to admin or intake
    assessment       JSONB,
    created_by       UUID NOT NULL REFERENCES users (id),
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX screenings_client_idx ON screenings (client_id);
CREATE INDEX screenings_interviewer_idx ON screenings (interviewer_id);
CREATE INDEX screenings_accepted_idx ON screenings (completed_at) WHERE outcome = 'accepted';

CREATE TABLE contracts (
    id         UUID PRIMARY KEY,
    group_id   UUID NOT NULL REFERENCES groups (id),
    version    INTEGER NOT NULL,
    clauses    JSONB NOT NULL,
    created_by UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (group_id, version)
);

CREATE TABLE sessions (
    id               UUID PRIMARY KEY,
    group_id         UUID NOT NULL REFERENCES groups (id),
    sequence         INTEGER NOT NULL,
    scheduled_at     TIMESTAMPTZ NOT NULL,
    duration_minutes INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'held', 'cancelled')),
    cancel_reason    TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (group_id, sequence),
    UNIQUE (group_id, scheduled_at)
);

CREATE TABLE memberships (
    id                      UUID PRIMARY KEY,
    group_id                UUID NOT NULL REFERENCES groups (id),
    client_id               UUID NOT NULL REFERENCES clients (id),
    screening_id            UUID NOT NULL REFERENCES screenings (id),
    status                  TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'active', 'exiting', 'exited')),
    override_reason         TEXT,
    contract_id             UUID REFERENCES contracts (id),
    signed_at               TIMESTAMPTZ,
    signature_name          TEXT,
    witness_id              UUID REFERENCES users (id),
    joined_on               DATE,
    exit_notice_reason      TEXT,
    announced_at            TIMESTAMPTZ,
    planned_last_session_id UUID REFERENCES sessions (id),
    exit_reason             TEXT CHECK (exit_reason IN
        ('completed', 'early_exit', 'dropped_out', 'discharged', 'transferred', 'other', 'withdrawn')),
    exit_note               TEXT,
    exited_at               TIMESTAMPTZ,
    created_by              UUID NOT NULL REFERENCES users (id),
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'exited') = (exited_at IS NOT NULL AND exit_reason IS NOT NULL))
);
-- one seat per client per group (exited memberships are history and do not count)
CREATE UNIQUE INDEX memberships_one_seat ON memberships (group_id, client_id)
    WHERE status IN ('pending', 'active', 'exiting');
CREATE INDEX memberships_group_idx ON memberships (group_id, status);
CREATE INDEX memberships_client_idx ON memberships (client_id);

CREATE TABLE attendance (
    session_id    UUID NOT NULL REFERENCES sessions (id),
    membership_id UUID NOT NULL REFERENCES memberships (id),
    status        TEXT NOT NULL CHECK (status IN
        ('present', 'late', 'left_early', 'excused_absence', 'unexcused_absence')),
    minutes_late  INTEGER CHECK (minutes_late IS NULL OR minutes_late BETWEEN 0 AND 600),
    recorded_by   UUID NOT NULL REFERENCES users (id),
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, membership_id)
);
CREATE INDEX attendance_membership_idx ON attendance (membership_id);

-- Notes: every content field lives only inside `ciphertext` (AES-256-GCM, application-side).
CREATE TABLE group_notes (
    id           UUID PRIMARY KEY,
    session_id   UUID NOT NULL UNIQUE REFERENCES sessions (id),
    author_id    UUID NOT NULL REFERENCES users (id),
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed', 'cosigned')),
    key_id       TEXT NOT NULL,
    nonce        BYTEA NOT NULL,
    ciphertext   BYTEA NOT NULL,
    signed_by    UUID REFERENCES users (id),
    signed_at    TIMESTAMPTZ,
    cosigned_by  UUID REFERENCES users (id),
    cosigned_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE member_notes (
    id            UUID PRIMARY KEY,
    session_id    UUID NOT NULL REFERENCES sessions (id),
    membership_id UUID NOT NULL REFERENCES memberships (id),
    author_id     UUID NOT NULL REFERENCES users (id),
    status        TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed', 'cosigned')),
    key_id        TEXT NOT NULL,
    nonce         BYTEA NOT NULL,
    ciphertext    BYTEA NOT NULL,
    signed_by     UUID REFERENCES users (id),
    signed_at     TIMESTAMPTZ,
    cosigned_by   UUID REFERENCES users (id),
    cosigned_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (session_id, membership_id)
);
CREATE INDEX member_notes_membership_idx ON member_notes (membership_id);

-- Addenda to signed notes: append-only like the audit trail.
CREATE TABLE note_addenda (
    id          UUID PRIMARY KEY,
    note_kind   TEXT NOT NULL CHECK (note_kind IN ('group', 'member')),
    note_id     UUID NOT NULL,
    seq         BIGSERIAL NOT NULL,
    author_id   UUID NOT NULL REFERENCES users (id),
    key_id      TEXT NOT NULL,
    nonce       BYTEA NOT NULL,
    ciphertext  BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX note_addenda_note_idx ON note_addenda (note_id, seq);
