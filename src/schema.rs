// @generated automatically by Diesel CLI.

diesel::table! {
    attendance (session_id, membership_id) {
        session_id -> Uuid,
        membership_id -> Uuid,
        status -> Text,
        minutes_late -> Nullable<Int4>,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (id) {
        seq -> Int8,
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        actor_role -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Uuid>,
        outcome -> Text,
        request_id -> Text,
        ip -> Nullable<Text>,
        details -> Jsonb,
        prev_hash -> Nullable<Bytea>,
        hash -> Nullable<Bytea>,
    }
}

diesel::table! {
    clients (id) {
        id -> Uuid,
        first_name -> Text,
        last_name -> Text,
        preferred_name -> Nullable<Text>,
        date_of_birth -> Date,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        referral_source -> Text,
        mandated -> Bool,
        search_text -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        gender -> Nullable<Text>,
    }
}

diesel::table! {
    consents (id) {
        id -> Uuid,
        client_id -> Uuid,
        recipient_name -> Text,
        recipient_kind -> Text,
        purpose -> Text,
        information -> Array<Text>,
        effective_on -> Date,
        expires_on -> Nullable<Date>,
        expires_event -> Nullable<Text>,
        signed_at -> Timestamptz,
        signature_name -> Text,
        witness_id -> Uuid,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Uuid>,
        revocation_reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    contracts (id) {
        id -> Uuid,
        group_id -> Uuid,
        version -> Int4,
        clauses -> Jsonb,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    disclosures (id) {
        id -> Uuid,
        client_id -> Uuid,
        consent_id -> Uuid,
        recipient_name -> Text,
        information -> Array<Text>,
        period_from -> Nullable<Date>,
        period_to -> Nullable<Date>,
        disclosed_at -> Timestamptz,
        disclosed_by -> Uuid,
        document_sha256 -> Bytea,
        key_id -> Text,
        nonce -> Bytea,
        ciphertext -> Bytea,
    }
}

diesel::table! {
    emergency_access (id) {
        id -> Uuid,
        client_id -> Uuid,
        granted_to -> Uuid,
        reason -> Text,
        granted_at -> Timestamptz,
        expires_at -> Timestamptz,
        reviewed_at -> Nullable<Timestamptz>,
        reviewed_by -> Nullable<Uuid>,
        review_outcome -> Nullable<Text>,
        review_note -> Nullable<Text>,
    }
}

diesel::table! {
    group_notes (id) {
        id -> Uuid,
        session_id -> Uuid,
        author_id -> Uuid,
        status -> Text,
        key_id -> Text,
        nonce -> Bytea,
        ciphertext -> Bytea,
        signed_by -> Nullable<Uuid>,
        signed_at -> Nullable<Timestamptz>,
        cosigned_by -> Nullable<Uuid>,
        cosigned_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        voided_at -> Nullable<Timestamptz>,
        voided_by -> Nullable<Uuid>,
        void_reason -> Nullable<Text>,
    }
}

diesel::table! {
    groups (id) {
        id -> Uuid,
        name -> Text,
        lead_therapist_id -> Uuid,
        co_therapist_ids -> Array<Uuid>,
        min_size -> Int4,
        max_size -> Int4,
        meeting_day -> Text,
        meeting_time -> Time,
        timezone -> Text,
        duration_minutes -> Int4,
        min_term_sessions -> Int4,
        exit_notice_sessions -> Int4,
        absence_alert_threshold -> Int4,
        start_date -> Date,
        end_date -> Nullable<Date>,
        status -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        completion_attendance_rate -> Float8,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Int8,
        ip -> Text,
        succeeded -> Bool,
        attempted_at -> Timestamptz,
        email_hash -> Bytea,
        counts_for_address -> Bool,
    }
}

diesel::table! {
    member_notes (id) {
        id -> Uuid,
        session_id -> Uuid,
        membership_id -> Uuid,
        author_id -> Uuid,
        status -> Text,
        key_id -> Text,
        nonce -> Bytea,
        ciphertext -> Bytea,
        signed_by -> Nullable<Uuid>,
        signed_at -> Nullable<Timestamptz>,
        cosigned_by -> Nullable<Uuid>,
        cosigned_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        voided_at -> Nullable<Timestamptz>,
        voided_by -> Nullable<Uuid>,
        void_reason -> Nullable<Text>,
    }
}

diesel::table! {
    membership_signatures (id) {
        id -> Uuid,
        membership_id -> Uuid,
        contract_id -> Uuid,
        signed_at -> Timestamptz,
        signature_name -> Text,
        witness_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (id) {
        id -> Uuid,
        group_id -> Uuid,
        client_id -> Uuid,
        screening_id -> Uuid,
        status -> Text,
        override_reason -> Nullable<Text>,
        contract_id -> Nullable<Uuid>,
        signed_at -> Nullable<Timestamptz>,
        signature_name -> Nullable<Text>,
        witness_id -> Nullable<Uuid>,
        joined_on -> Nullable<Date>,
        exit_notice_reason -> Nullable<Text>,
        announced_at -> Nullable<Timestamptz>,
        planned_last_session_id -> Nullable<Uuid>,
        exit_reason -> Nullable<Text>,
        exit_note -> Nullable<Text>,
        exited_at -> Nullable<Timestamptz>,
        created_by -> Uuid,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        exit_rescinded_at -> Nullable<Timestamptz>,
        exit_rescind_reason -> Nullable<Text>,
        override_reason_sealed -> Nullable<Bytea>,
        exit_notice_reason_sealed -> Nullable<Bytea>,
        exit_note_sealed -> Nullable<Bytea>,
        exit_rescind_reason_sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    note_addenda (id) {
        id -> Uuid,
        note_kind -> Text,
        note_id -> Uuid,
        seq -> Int8,
        author_id -> Uuid,
        key_id -> Text,
        nonce -> Bytea,
        ciphertext -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    password_reset_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        issued_by -> Uuid,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    screenings (id) {
        id -> Uuid,
        client_id -> Uuid,
        interviewer_id -> Uuid,
        group_id -> Nullable<Uuid>,
        scheduled_at -> Timestamptz,
        status -> Text,
        completed_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        assessment -> Nullable<Jsonb>,
        created_by -> Uuid,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        assessment_sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        group_id -> Uuid,
        sequence -> Int4,
        scheduled_at -> Timestamptz,
        duration_minutes -> Int4,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        token_version -> Int4,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        approval -> Text,
        approval_requested_by -> Nullable<Uuid>,
        approval_requested_at -> Nullable<Timestamptz>,
        approved_by -> Nullable<Uuid>,
        approved_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(attendance -> memberships (membership_id));
diesel::joinable!(attendance -> sessions (session_id));
diesel::joinable!(attendance -> users (recorded_by));
diesel::joinable!(consents -> clients (client_id));
diesel::joinable!(contracts -> groups (group_id));
diesel::joinable!(contracts -> users (created_by));
diesel::joinable!(disclosures -> clients (client_id));
diesel::joinable!(disclosures -> consents (consent_id));
diesel::joinable!(emergency_access -> clients (client_id));
diesel::joinable!(group_notes -> sessions (session_id));
diesel::joinable!(groups -> users (lead_therapist_id));
diesel::joinable!(member_notes -> memberships (membership_id));
diesel::joinable!(member_notes -> sessions (session_id));
diesel::joinable!(membership_signatures -> contracts (contract_id));
diesel::joinable!(membership_signatures -> memberships (membership_id));
diesel::joinable!(membership_signatures -> users (witness_id));
diesel::joinable!(memberships -> clients (client_id));
diesel::joinable!(memberships -> contracts (contract_id));
diesel::joinable!(memberships -> groups (group_id));
diesel::joinable!(memberships -> screenings (screening_id));
diesel::joinable!(memberships -> sessions (planned_last_session_id));
diesel::joinable!(note_addenda -> users (author_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(screenings -> clients (client_id));
diesel::joinable!(screenings -> groups (group_id));
diesel::joinable!(sessions -> groups (group_id));

diesel::allow_tables_to_appear_in_same_query!(
    attendance,
    audit_events,
    clients,
    consents,
    contracts,
    disclosures,
    emergency_access,
    group_notes,
    groups,
    login_attempts,
    member_notes,
    membership_signatures,
    memberships,
    note_addenda,
    password_reset_tokens,
    refresh_tokens,
    screenings,
    sessions,
    users,
);
