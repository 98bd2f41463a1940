//! Diesel schema, kept by hand: only types every backend shares (BigInt, Integer, Text, Bool,
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
    }
}

diesel::table! {
    campaign_buyers (campaign_id, buyer_id) {
        campaign_id -> BigInt,
        buyer_id -> BigInt,
        priority -> Nullable<Integer>,
        weight -> Nullable<Integer>,
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

diesel::joinable!(campaign_buyers -> campaigns (campaign_id));
diesel::joinable!(campaign_buyers -> buyers (buyer_id));
diesel::joinable!(phone_numbers -> campaigns (campaign_id));
diesel::joinable!(phone_numbers -> publishers (publisher_id));
diesel::joinable!(users -> publishers (publisher_id));

diesel::allow_tables_to_appear_in_same_query!(
    publishers,
    campaigns,
    buyers,
    campaign_buyers,
    phone_numbers,
    users,
    api_keys,
);
