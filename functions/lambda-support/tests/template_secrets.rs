//! `template.yaml` keeps the Telegram secrets out of the functions' environment: a function is
//! given the names of the parameters this crate reads (`TelegramParameters::of_stack`), may read
//! exactly those, and may decrypt only them, through Parameter Store; set-webhook's key alias is the
//! template's.

#![allow(clippy::unwrap_used)] // reading the repository's own files

use lambda_support::secrets::{
    BOT_TOKEN_PARAMETER_ENV, TelegramParameters, WEBHOOK_SECRET_PARAMETER_ENV, WEBHOOK_SECRET_PREVIOUS_PARAMETER_ENV,
    key_alias_of_stack,
};
use serde_yaml::Value;
use std::collections::BTreeSet;

const STACK: &str = "${AWS::StackName}";
const PARAMETER_ARN: &str = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter";

fn template() -> Value {
    let text = std::fs::read_to_string("../../template.yaml").unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) => text(&t.value),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn texts(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Tagged(t) => texts(&t.value),
        Value::Sequence(items) => items.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// The statements of the managed policies a function names with `!Ref`.
fn managed_statements<'t>(template: &'t Value, function: &'t Value) -> Vec<&'t Value> {
    let mut found = Vec::new();
    for policy in function["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        if let Value::Tagged(t) = policy
            && t.tag == "Ref"
            && let Some(name) = text(&t.value)
        {
            let statements = &template["Resources"][name.as_str()]["Properties"]["PolicyDocument"]["Statement"];
            found.extend(statements.as_sequence().into_iter().flatten());
        }
    }
    found
}

#[test]
fn functions_are_given_the_names_of_the_secrets_and_may_read_and_decrypt_only_those() {
    let template = template();
    let names = TelegramParameters::of_stack(STACK);
    let params = template["Parameters"].as_mapping().unwrap();
    assert!(
        !params.keys().filter_map(|k| k.as_str()).any(|k| k.contains("Token") || k == "TelegramWebhookSecret"),
        "no secret is a stack parameter: {:?}",
        params.keys().collect::<Vec<_>>()
    );
    let mut readers = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let variables = &resource["Properties"]["Environment"]["Variables"];
        for forbidden in ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"] {
            assert!(variables[forbidden].is_null(), "{name:?} has {forbidden} in its environment");
        }
        let mut given = BTreeSet::new();
        for (env, expected) in [
            (BOT_TOKEN_PARAMETER_ENV, &names.bot_token),
            (WEBHOOK_SECRET_PARAMETER_ENV, &names.webhook_secret),
            (WEBHOOK_SECRET_PREVIOUS_PARAMETER_ENV, &names.webhook_secret_previous),
        ] {
            if let Some(value) = text(&variables[env]) {
                assert_eq!(&value, expected, "{name:?} {env}");
                given.insert(format!("{PARAMETER_ARN}{value}"));
            }
        }
        let statements = managed_statements(&template, resource);
        let readable: BTreeSet<String> = statements
            .iter()
            .filter(|s| texts(&s["Action"]).iter().any(|a| a.starts_with("ssm:")))
            .inspect(|s| assert_eq!(texts(&s["Action"]), BTreeSet::from(["ssm:GetParameters".to_owned()])))
            .flat_map(|s| texts(&s["Resource"]))
            .collect();
        assert_eq!(readable, given, "{name:?} reads exactly the parameters it is given");
        let decryptable: BTreeSet<String> = statements
            .iter()
            .filter(|s| texts(&s["Action"]).contains("kms:Decrypt"))
            .inspect(|s| {
                let via = texts(&s["Condition"]["StringEquals"]["kms:ViaService"]);
                assert_eq!(via, BTreeSet::from(["ssm.${AWS::Region}.amazonaws.com".to_owned()]), "{name:?}");
            })
            .flat_map(|s| texts(&s["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"]))
            .collect();
        assert_eq!(decryptable, given, "{name:?} decrypts exactly the parameters it is given");
        readers += usize::from(!given.is_empty());
    }
    assert_eq!(readers, 5, "the webhook, the scheduler, the stocks and processes functions and the dashboard send");

    let alias = template["Resources"]["EncryptionKeyAlias"]["Properties"]["AliasName"].clone();
    assert_eq!(text(&alias), Some(key_alias_of_stack(STACK)));
}
