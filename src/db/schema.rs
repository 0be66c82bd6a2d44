//! One schema for both engines. Written by hand to match
//! `migrations/{sqlite,postgres}`; `tests/api/schema.rs` checks that the two
//! engines end with the same tables and columns.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    alliances (id) {
        id -> Text,
        slug -> Text,
        kind -> Text,
        sector -> Text,
        host_zone -> Nullable<Text>,
        name_zh -> Text,
        name_en -> Nullable<Text>,
        founded_on -> Nullable<Date>,
        status -> Text,
        documents -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        kind -> Text,
        name_zh -> Text,
        name_en -> Nullable<Text>,
        uscc -> Nullable<Text>,
        region -> Nullable<Text>,
        website -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        certification_level -> Nullable<Text>,
        certified_on -> Nullable<Date>,
        certification_expires_on -> Nullable<Date>,
        former_names -> Text,
    }
}

diesel::table! {
    organization_refs (system, external_id) {
        organization_id -> Text,
        system -> Text,
        external_id -> Text,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        alliance_id -> Text,
        organization_id -> Text,
        role -> Text,
        status -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
        note -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_records (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    change_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        event_type -> Text,
        resource_type -> Text,
        resource_id -> Text,
        alliance_id -> Nullable<Text>,
        version -> BigInt,
        payload -> Text,
        actor -> Text,
        position -> Nullable<BigInt>,
    }
}

diesel::table! {
    idempotency_keys (principal, idempotency_key) {
        principal -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        url -> Text,
        event_types -> Text,
        alliance_id -> Nullable<Text>,
        description -> Nullable<Text>,
        secret -> Text,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        owner_subject -> Text,
        owner_role -> Text,
        owner_alliances -> Text,
        event_cursor -> BigInt,
        failing_since -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_seq -> BigInt,
        event_type -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        give_up_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        at -> Timestamp,
        succeeded -> Bool,
        response_code -> Nullable<Integer>,
        latency_ms -> Integer,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    membership_changes (id) {
        id -> Text,
        membership_id -> Text,
        at -> Timestamp,
        actor -> Text,
        field -> Text,
        from_value -> Nullable<Text>,
        to_value -> Text,
        effective_on -> Nullable<Date>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    platforms (id) {
        id -> Text,
        alliance_id -> Text,
        kind -> Text,
        name_zh -> Text,
        name_en -> Nullable<Text>,
        host_organization_id -> Nullable<Text>,
        focus_areas -> Text,
        status -> Text,
        opened_on -> Nullable<Date>,
        closed_on -> Nullable<Date>,
        description -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    platform_partners (platform_id, organization_id) {
        platform_id -> Text,
        organization_id -> Text,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        alliance_id -> Text,
        kind -> Text,
        title -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        platform_id -> Nullable<Text>,
        persons -> Nullable<BigInt>,
        person_times -> Nullable<BigInt>,
        hours -> Nullable<BigInt>,
        students -> Nullable<BigInt>,
        awards -> Nullable<BigInt>,
        budget_cny -> Nullable<BigInt>,
        research_status -> Nullable<Text>,
        open_call -> Nullable<Bool>,
        resolutions -> Text,
        evidence -> Text,
        outcome -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        start_year -> Integer,
    }
}

diesel::table! {
    activity_organizations (activity_id, organization_id) {
        activity_id -> Text,
        organization_id -> Text,
    }
}

diesel::table! {
    council_seats (id) {
        id -> Text,
        alliance_id -> Text,
        organization_id -> Text,
        person_name_zh -> Text,
        person_name_en -> Nullable<Text>,
        position -> Text,
        term_number -> Integer,
        term_starts_on -> Date,
        term_ends_on -> Date,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        appointment_document -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    kpi_definitions (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Nullable<Text>,
        unit -> Text,
        direction -> Text,
        value_type -> Text,
        derivation -> Nullable<Text>,
        evidence_required -> Bool,
        source -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    annual_reports (id) {
        id -> Text,
        alliance_id -> Text,
        year -> Integer,
        status -> Text,
        comment -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        approved_by -> Nullable<Text>,
        snapshot -> Nullable<Text>,
        snapshot_sha256 -> Nullable<Text>,
        approved_figures -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    kpi_values (report_id, kpi_code) {
        report_id -> Text,
        kpi_code -> Text,
        target -> Nullable<Double>,
        actual -> Nullable<Double>,
        note -> Nullable<Text>,
        evidence -> Text,
    }
}

diesel::table! {
    report_events (id) {
        id -> Text,
        report_id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        from_status -> Text,
        to_status -> Text,
        comment -> Nullable<Text>,
        snapshot_sha256 -> Nullable<Text>,
    }
}

diesel::joinable!(memberships -> alliances (alliance_id));
diesel::joinable!(annual_reports -> alliances (alliance_id));
diesel::joinable!(kpi_values -> annual_reports (report_id));
diesel::joinable!(report_events -> annual_reports (report_id));
diesel::joinable!(council_seats -> alliances (alliance_id));
diesel::joinable!(membership_changes -> memberships (membership_id));
diesel::joinable!(platforms -> alliances (alliance_id));
diesel::joinable!(platform_partners -> platforms (platform_id));
diesel::joinable!(activities -> alliances (alliance_id));
diesel::joinable!(activity_organizations -> activities (activity_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(organization_refs -> organizations (organization_id));
diesel::joinable!(postings -> organizations (organization_id));

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        role -> Text,
        alliances -> Text,
        organization -> Nullable<Text>,
        description -> Nullable<Text>,
        status -> Text,
        secret_hash -> Text,
        secret_rotated_at -> Timestamp,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    postings (id) {
        id -> Text,
        alliance_id -> Text,
        organization_id -> Text,
        kind -> Text,
        status -> Text,
        close_reason -> Nullable<Text>,
        title_zh -> Text,
        title_en -> Nullable<Text>,
        description_zh -> Nullable<Text>,
        description_en -> Nullable<Text>,
        majors -> Text,
        level -> Nullable<Text>,
        region -> Nullable<Text>,
        headcount -> Nullable<BigInt>,
        opens_on -> Nullable<Date>,
        closes_on -> Nullable<Date>,
        details -> Text,
        attachments -> Text,
        external_ref -> Nullable<Text>,
        public -> Bool,
        review_comment -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        search_text -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    posting_matches (id) {
        id -> Text,
        alliance_id -> Text,
        demand_id -> Text,
        offer_id -> Text,
        status -> Text,
        note -> Nullable<Text>,
        demand_accepted_at -> Nullable<Timestamp>,
        offer_accepted_at -> Nullable<Timestamp>,
        closed_on -> Nullable<Date>,
        close_year -> Nullable<Integer>,
        students_placed -> Nullable<BigInt>,
        contract_amount_cny -> Nullable<BigInt>,
        project_started -> Nullable<Bool>,
        outcome_note -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    settings,
    alliances,
    organizations,
    organization_refs,
    memberships,
    audit_records,
    change_events,
    idempotency_keys,
    webhook_subscriptions,
    webhook_deliveries,
    webhook_attempts,
    membership_changes,
    platforms,
    platform_partners,
    activities,
    activity_organizations,
    council_seats,
    kpi_definitions,
    annual_reports,
    kpi_values,
    report_events,
    postings,
    posting_matches,
);
