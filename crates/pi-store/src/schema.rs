//! diesel table definitions: privacyIDEA 3.14's tables and column names.

// The `table!` macro generates undocumented items.
#![allow(missing_docs)]

diesel::table! {
    admin (username) {
        username -> Text,
        password -> Nullable<Text>,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    config (key) {
        #[sql_name = "Key"]
        key -> Text,
        #[sql_name = "Value"]
        value -> Nullable<Text>,
        #[sql_name = "Type"]
        typ -> Nullable<Text>,
        #[sql_name = "Description"]
        description -> Nullable<Text>,
    }
}

diesel::table! {
    nodename (id) {
        id -> Text,
        name -> Nullable<Text>,
        lastseen -> Nullable<Timestamp>,
    }
}

diesel::table! {
    policy (id) {
        id -> Integer,
        active -> Nullable<Bool>,
        check_all_resolvers -> Nullable<Bool>,
        name -> Text,
        user_case_insensitive -> Nullable<Bool>,
        scope -> Text,
        action -> Nullable<Text>,
        realm -> Nullable<Text>,
        adminrealm -> Nullable<Text>,
        adminuser -> Nullable<Text>,
        resolver -> Nullable<Text>,
        pinode -> Nullable<Text>,
        user -> Nullable<Text>,
        client -> Nullable<Text>,
        time -> Nullable<Text>,
        user_agents -> Nullable<Text>,
        priority -> Integer,
    }
}

diesel::table! {
    policycondition (id) {
        id -> Integer,
        policy_id -> Integer,
        section -> Text,
        #[sql_name = "Key"]
        key -> Text,
        comparator -> Text,
        #[sql_name = "Value"]
        value -> Text,
        active -> Bool,
        handle_missing_data -> Nullable<Text>,
    }
}

diesel::table! {
    description (id) {
        id -> Integer,
        object_id -> Integer,
        object_type -> Text,
        last_update -> Nullable<Timestamp>,
        #[sql_name = "description"]
        text -> Nullable<Text>,
    }
}

diesel::table! {
    privacyideaserver (id) {
        id -> Integer,
        identifier -> Text,
        url -> Text,
        tls -> Nullable<Bool>,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    realm (id) {
        id -> Integer,
        name -> Text,
        #[sql_name = "default"]
        is_default -> Nullable<Bool>,
    }
}

diesel::table! {
    resolver (id) {
        id -> Integer,
        name -> Text,
        rtype -> Text,
    }
}

diesel::table! {
    resolverconfig (id) {
        id -> Integer,
        resolver_id -> Nullable<Integer>,
        #[sql_name = "Key"]
        key -> Text,
        #[sql_name = "Value"]
        value -> Nullable<Text>,
        #[sql_name = "Type"]
        typ -> Nullable<Text>,
        #[sql_name = "Description"]
        description -> Nullable<Text>,
    }
}

diesel::table! {
    resolverrealm (id) {
        id -> Integer,
        resolver_id -> Nullable<Integer>,
        realm_id -> Nullable<Integer>,
        priority -> Nullable<Integer>,
        node_uuid -> Nullable<Text>,
    }
}

diesel::joinable!(resolverrealm -> resolver (resolver_id));
diesel::joinable!(resolverrealm -> realm (realm_id));

diesel::allow_tables_to_appear_in_same_query!(resolverrealm, resolver, realm);

// privacyIDEA's token tables: read only (counts for the WebUI settings at
// `/auth`), and only when they exist.
diesel::table! {
    token (id) {
        id -> Integer,
        active -> Bool,
    }
}

diesel::table! {
    tokenowner (id) {
        id -> Integer,
        token_id -> Nullable<Integer>,
        resolver -> Nullable<Text>,
        user_id -> Nullable<Text>,
        realm_id -> Nullable<Integer>,
    }
}

diesel::table! {
    tokencontainerowner (id) {
        id -> Integer,
        container_id -> Nullable<Integer>,
        resolver -> Nullable<Text>,
        user_id -> Nullable<Text>,
        realm_id -> Nullable<Integer>,
    }
}

diesel::table! {
    subscription (id) {
        id -> Integer,
        application -> Nullable<Text>,
        date_till -> Nullable<Timestamp>,
    }
}
diesel::allow_tables_to_appear_in_same_query!(token, tokenowner);
