//! `POST /policy/<name>` parameters: any JSON object, validated against a
//! small configuration, must give a record or a validation error — never a
//! panic — and an accepted record must load and serialise again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pi_model::{Policy, PolicyWrite, ValidationContext};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // First line: the policy name; the rest: the JSON parameters.
    let (name, body) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(Value::Object(params)) = serde_json::from_str::<Value>(body) else {
        return;
    };
    let params: Map<String, Value> = params;
    let ctx = ValidationContext {
        realms: vec!["realm1".into(), "realm2".into()],
        resolvers: vec!["resolver1".into()],
        nodes: vec!["node1".into()],
        superuser_realms: vec!["super".into()],
    };
    let write = PolicyWrite::from_params(name, &params);
    if let Ok(record) = write.validate(&ctx, None) {
        let policy = Policy::from_record(&record);
        let _ = policy.to_json();
        // Updating the stored record with the same parameters is accepted too.
        let again = PolicyWrite::from_params(name, &params).validate(&ctx, Some(&record));
        assert!(
            again.is_ok(),
            "update with the create parameters failed: {again:?}"
        );
    }
});
