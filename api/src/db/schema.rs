//! Diesel schema, kept by hand: only types every backend shares (`BigInt`, Integer, Text, Bool,
//! Timestamp). The SQL is in `migrations/<backend>/`.

diesel::table! {
    publishers (id) {
        id -> BigInt,
        name -> Text,
        status -> Text,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        payout_terms -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        postback_url -> Nullable<Text>,
        postback_method -> Text,
        postback_secret -> Nullable<Text>,
    }
}

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        name -> Text,
        status -> Text,
        greeting -> Text,
        busy_message -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        // Twilio account: transcription switch.
        transcribe -> Bool,
        currency -> Text,
        revenue_micros -> BigInt,
        payout_micros -> BigInt,
        buffer_secs -> Integer,
        duplicate_window_secs -> Integer,
        show_full_caller -> Bool,
        // Screening: a JSON object.
        screening -> Text,
        // The IVR: a JSON object.
        ivr -> Text,
        // How each priority tier is ordered: a JSON object.
        routing -> Text,
    }
}

diesel::table! {
    buyers (id) {
        id -> BigInt,
        name -> Text,
        phone_number -> Text,
        status -> Text,
        priority -> Integer,
        weight -> Integer,
        max_concurrent_calls -> Integer,
        cap_hourly -> Nullable<Integer>,
        cap_daily -> Nullable<Integer>,
        cap_monthly -> Nullable<Integer>,
        timezone -> Text,
        schedule -> Text,
        allowed_states -> Text,
        denied_states -> Text,
        sticky_repeat_callers -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        // Screening: a JSON list of tag rules.
        tag_rules -> Text,
        // Buyer acceptance: whisper and "press 1 to accept".
        whisper -> Nullable<Text>,
        require_accept -> Bool,
        accept_timeout_secs -> Integer,
        // Labels an IVR answer can keep a call to: a JSON list.
        labels -> Text,
    }
}

diesel::table! {
    campaign_buyers (campaign_id, buyer_id) {
        campaign_id -> BigInt,
        buyer_id -> BigInt,
        priority -> Nullable<Integer>,
        weight -> Nullable<Integer>,
        revenue_micros -> Nullable<BigInt>,
        buffer_secs -> Nullable<Integer>,
        tag_rules -> Nullable<Text>,
        // Buyer acceptance overrides.
        whisper -> Nullable<Text>,
        require_accept -> Nullable<Bool>,
        accept_timeout_secs -> Nullable<Integer>,
    }
}

diesel::table! {
    campaign_publishers (campaign_id, publisher_id) {
        campaign_id -> BigInt,
        publisher_id -> BigInt,
        payout_micros -> BigInt,
    }
}

diesel::table! {
    call_rollups (level, hour, campaign_id, publisher_id, buyer_id, number_id, shard) {
        level -> BigInt,
        hour -> BigInt,
        campaign_id -> BigInt,
        publisher_id -> BigInt,
        buyer_id -> BigInt,
        number_id -> BigInt,
        shard -> BigInt,
        calls -> BigInt,
        answered -> BigInt,
        qualified -> BigInt,
        duplicates -> BigInt,
        no_buyer -> BigInt,
        talk_secs -> BigInt,
        revenue_micros -> BigInt,
        payout_micros -> BigInt,
        cost_micros -> BigInt,
        offered -> BigInt,
        connected -> BigInt,
        blocked -> BigInt,
    }
}

diesel::table! {
    phone_numbers (id) {
        id -> BigInt,
        number -> Text,
        provider_sid -> Nullable<Text>,
        friendly_name -> Nullable<Text>,
        campaign_id -> Nullable<BigInt>,
        publisher_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        publisher_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        token_version -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        role -> Text,
        publisher_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    buyer_load (buyer_id) {
        buyer_id -> BigInt,
        in_progress -> Integer,
        hour_key -> BigInt,
        hour_count -> Integer,
        day_key -> BigInt,
        day_count -> Integer,
        month_key -> BigInt,
        month_count -> Integer,
        total_calls -> BigInt,
        last_call_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calls (id) {
        id -> BigInt,
        call_sid -> Text,
        campaign_id -> Nullable<BigInt>,
        number_id -> Nullable<BigInt>,
        publisher_id -> Nullable<BigInt>,
        buyer_id -> Nullable<BigInt>,
        caller -> Text,
        dialled -> Text,
        caller_state -> Nullable<Text>,
        caller_state_source -> Nullable<Text>,
        caller_city -> Nullable<Text>,
        caller_zip -> Nullable<Text>,
        status -> Text,
        outcome -> Text,
        attempts -> Integer,
        started_at -> Timestamp,
        ringing_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        connected_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        duration_secs -> Nullable<Integer>,
        billable_secs -> Nullable<Integer>,
        recording_sid -> Nullable<Text>,
        recording_url -> Nullable<Text>,
        recording_duration_secs -> Nullable<Integer>,
        recording_channels -> Nullable<Integer>,
        last_sequence -> Nullable<Integer>,
        updated_at -> Timestamp,
        // Twilio account: cost and transcript.
        cost_micros -> Nullable<BigInt>,
        cost_currency -> Nullable<Text>,
        cost_status -> Nullable<Text>,
        transcript -> Nullable<Text>,
        transcript_status -> Nullable<Text>,
        transcript_sid -> Nullable<Text>,
        settled_at -> Nullable<Timestamp>,
        money_buyer_id -> Nullable<BigInt>,
        answered -> Bool,
        no_buyer -> Bool,
        talk_secs -> Integer,
        duplicate -> Bool,
        qualified -> Nullable<Bool>,
        qualify_reason -> Nullable<Text>,
        currency -> Nullable<Text>,
        rule_revenue_micros -> Nullable<BigInt>,
        rule_payout_micros -> Nullable<BigInt>,
        rule_buffer_secs -> Nullable<Integer>,
        rule_duplicate_window_secs -> Nullable<Integer>,
        revenue_micros -> BigInt,
        payout_micros -> BigInt,
        counted_cost_micros -> BigInt,
        profit_micros -> Nullable<BigInt>,
        postback_at -> Nullable<Timestamp>,
        version -> BigInt,
        // Screening: a JSON object of tags, and the rule that blocked the call.
        tags -> Text,
        blocked_by -> Nullable<Text>,
        repeat_buyer_id -> Nullable<BigInt>,
        // The IVR: outcome, question and try, seconds, the buyer label an answer chose.
        ivr_outcome -> Nullable<Text>,
        ivr_question -> Nullable<Integer>,
        ivr_attempt -> Nullable<Integer>,
        ivr_secs -> Nullable<Integer>,
        route_label -> Nullable<Text>,
        money_bidder_id -> Nullable<BigInt>,
        quote_ping_id -> Nullable<Text>,
        quote_payout_micros -> Nullable<BigInt>,
    }
}

diesel::table! {
    blocklist (id) {
        id -> BigInt,
        number -> Text,
        kind -> Text,
        campaign_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    call_legs (id) {
        id -> BigInt,
        call_id -> BigInt,
        attempt -> Integer,
        buyer_id -> Nullable<BigInt>,
        dial_call_sid -> Nullable<Text>,
        status -> Text,
        released -> Bool,
        reserved_at -> Timestamp,
        ringing_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        duration_secs -> Nullable<Integer>,
        last_sequence -> Nullable<Integer>,
        expires_at -> Timestamp,
        counted -> Bool,
        counted_connected -> Bool,
        accept_required -> Bool,
        accepted_at -> Nullable<Timestamp>,
        bidder_id -> Nullable<BigInt>,
        dial_to -> Nullable<Text>,
        bid_micros -> Nullable<BigInt>,
        bid_min_duration_secs -> Nullable<Integer>,
    }
}

diesel::table! {
    call_events (id) {
        id -> BigInt,
        call_id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        data -> Text,
    }
}

diesel::table! {
    live_events (id) {
        id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        call_id -> Nullable<BigInt>,
        publisher_id -> Nullable<BigInt>,
        payload -> Text,
    }
}

diesel::table! {
    twilio_account (id) {
        id -> Integer,
        account_sid -> Text,
        auth_token -> Text,
        api_key_sid -> Nullable<Text>,
        api_key_secret -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    directory_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        last_error -> Nullable<Text>,
        status -> Text,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    number_imports (id) {
        id -> BigInt,
        status -> Text,
        pages -> Integer,
        processed -> Integer,
        new_count -> Integer,
        updated_count -> Integer,
        unchanged_count -> Integer,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(buyer_load -> buyers (buyer_id));
diesel::joinable!(calls -> campaigns (campaign_id));
diesel::joinable!(calls -> buyers (buyer_id));
diesel::table! {
    postback_attempts (id) {
        id -> BigInt,
        call_id -> BigInt,
        publisher_id -> BigInt,
        attempt -> Integer,
        method -> Text,
        url -> Text,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> Integer,
        at -> Timestamp,
    }
}

diesel::table! {
    bidders (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        name -> Text,
        status -> Text,
        url -> Text,
        method -> Text,
        headers -> Text,
        body_template -> Text,
        timeout_ms -> Integer,
        mapping -> Text,
        allow_private -> Bool,
        expose_caller -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rtb_quotes (id) {
        id -> BigInt,
        ping_id -> Text,
        publisher_id -> BigInt,
        campaign_id -> BigInt,
        number_id -> Nullable<BigInt>,
        caller -> Text,
        accepted -> Bool,
        reason -> Nullable<Text>,
        payout_micros -> Nullable<BigInt>,
        currency -> Text,
        min_duration_secs -> Nullable<Integer>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    bid_pings (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        bidder_id -> Nullable<BigInt>,
        bidder_name -> Text,
        call_id -> Nullable<BigInt>,
        quote_id -> Nullable<BigInt>,
        at -> Timestamp,
        latency_ms -> Integer,
        outcome -> Text,
        detail -> Nullable<Text>,
        bid_micros -> Nullable<BigInt>,
        dial_to -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        min_duration_secs -> Nullable<Integer>,
    }
}

diesel::joinable!(call_legs -> calls (call_id));
diesel::joinable!(bidders -> campaigns (campaign_id));
diesel::joinable!(bid_pings -> calls (call_id));
diesel::joinable!(call_legs -> buyers (buyer_id));
diesel::joinable!(call_events -> calls (call_id));
diesel::joinable!(campaign_buyers -> campaigns (campaign_id));
diesel::joinable!(campaign_buyers -> buyers (buyer_id));
diesel::joinable!(phone_numbers -> campaigns (campaign_id));
diesel::joinable!(phone_numbers -> publishers (publisher_id));
diesel::joinable!(users -> publishers (publisher_id));
diesel::joinable!(blocklist -> campaigns (campaign_id));
diesel::joinable!(campaign_publishers -> campaigns (campaign_id));
diesel::joinable!(campaign_publishers -> publishers (publisher_id));

diesel::allow_tables_to_appear_in_same_query!(
    blocklist,
    publishers,
    campaigns,
    buyers,
    campaign_buyers,
    phone_numbers,
    users,
    api_keys,
    buyer_load,
    calls,
    call_legs,
    call_events,
    live_events,
    twilio_account,
    jobs,
    number_imports,
    campaign_publishers,
    call_rollups,
    postback_attempts,
    directory_version,
    bidders,
    rtb_quotes,
    bid_pings,
);
