//! The diesel table definitions, shared by both backends (portable column types only).
//!
//! Written to match `migrations/postgres` and `migrations/sqlite`; the parity test in the test suite selects
//! every column of every table on both backends, so drift fails a test.

diesel::table! {
    orgs (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        retention_days -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        org_id -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        name -> Nullable<Text>,
        prefix -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        org_id -> Text,
        title -> Text,
        role -> Text,
        task_brief -> Text,
        repo_url -> Nullable<Text>,
        time_limit_minutes -> Nullable<BigInt>,
        expires_in_days -> BigInt,
        allowed_tools -> Nullable<Text>,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    candidate_keys (id) {
        id -> Text,
        org_id -> Text,
        assessment_id -> Text,
        key -> Text,
        candidate_name -> Nullable<Text>,
        candidate_email -> Nullable<Text>,
        status -> Text,
        session_id -> Nullable<Text>,
        expires_at -> Timestamp,
        redeemed_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    session_tokens (token_hash) {
        token_hash -> Text,
        candidate_key_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        org_id -> Text,
        candidate_key_id -> Nullable<Text>,
        assessment_id -> Nullable<Text>,
        source_service -> Nullable<Text>,
        metadata -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        last_activity_at -> Timestamp,
        event_count -> BigInt,
        decision_flag_count -> BigInt,
        prompt_count -> BigInt,
        command_count -> BigInt,
        command_exit_count -> BigInt,
        command_fail_count -> BigInt,
        verify_count -> BigInt,
        file_change_count -> BigInt,
        manual_edit_count -> BigInt,
        first_change_at -> Nullable<Timestamp>,
        ai_weight_halves -> BigInt,
        ai_attributed_size -> BigInt,
        last_test_at -> Nullable<Timestamp>,
        last_test_seq -> Nullable<BigInt>,
        last_test_passed -> Nullable<Bool>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        signing_pubkey -> Nullable<Text>,
        signed_event_count -> BigInt,
        verified_event_count -> BigInt,
        chained_event_count -> BigInt,
        chain_tip_sig -> Nullable<Text>,
        activity_counts -> Text,
    }
}

diesel::table! {
    timeline_events (seq) {
        seq -> BigInt,
        id -> Binary,
        session_id -> Text,
        kind -> Text,
        ts -> BigInt,
        source -> Text,
        actor -> Text,
        provenance -> Text,
        data -> Nullable<Text>,
        envelope -> Text,
        created_at -> BigInt,
        marks -> Nullable<BigInt>,
    }
}

diesel::table! {
    artifacts (id) {
        id -> Text,
        session_id -> Text,
        kind -> Text,
        data -> Text,
        derivation_v -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scores (id) {
        id -> Text,
        session_id -> Text,
        dimension -> Text,
        score -> BigInt,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        scorer_type -> Nullable<Text>,
        scorer_id -> Nullable<Text>,
        scorer_name -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_ins (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        org_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_chain (event_seq) {
        event_seq -> BigInt,
        session_id -> Text,
        ts -> BigInt,
        sig -> Nullable<Text>,
        prev_sig -> Nullable<Text>,
        verified -> Bool,
        chain_pos -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        org_id -> Text,
        event_id -> Text,
        event_type -> Text,
        subject_key_id -> Nullable<Text>,
        body -> Text,
        status -> Text,
        attempts -> BigInt,
        created_at -> Timestamp,
        next_attempt_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<BigInt>,
        last_latency_ms -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        at -> Timestamp,
        actor_type -> Text,
        actor_id -> Text,
        actor_name -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        details -> Text,
    }
}

diesel::joinable!(api_keys -> orgs (org_id));
diesel::joinable!(assessments -> orgs (org_id));
diesel::joinable!(candidate_keys -> assessments (assessment_id));
diesel::joinable!(session_tokens -> candidate_keys (candidate_key_id));
diesel::joinable!(sessions -> orgs (org_id));
diesel::joinable!(timeline_events -> sessions (session_id));
diesel::joinable!(artifacts -> sessions (session_id));
diesel::joinable!(scores -> sessions (session_id));
diesel::joinable!(event_chain -> timeline_events (event_seq));
diesel::joinable!(audit_log -> orgs (org_id));
diesel::joinable!(users -> orgs (org_id));
diesel::joinable!(sign_ins -> users (user_id));
diesel::table! {
    heartbeat (id) {
        id -> BigInt,
        beat_at -> Timestamp,
    }
}

diesel::joinable!(webhooks -> orgs (org_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    orgs,
    api_keys,
    assessments,
    candidate_keys,
    session_tokens,
    sessions,
    timeline_events,
    artifacts,
    scores,
    event_chain,
    audit_log,
    users,
    sign_ins,
    webhooks,
    webhook_deliveries,
    heartbeat,
);
