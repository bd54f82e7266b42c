//! Least privilege in `template.yaml`, read from the file: no wildcard action anywhere, no SAM
//! policy template that grants a whole table, no Scan and no DeleteItem for the webhook, and the
//! audit and error logs append-only for every function (a Deny on their partition keys, the ones the
//! code writes). Then the rest of the template's hygiene: MFA, API access logs, an encrypted alarm
//! topic, background failures counted and alarmed on.
//!
//! CloudFormation's short tags (`!Ref`, `!Sub`, `!GetAtt`) come through serde_yaml as tagged
//! values; what is read here looks through them.

#![allow(clippy::unwrap_used)] // reading the repository's own files and literals

use serde_yaml::Value;
use shared::adapters::dynamodb::{AUDIT_PARTITION, ERROR_PARTITION};
use shared::domain::journal::BACKGROUND_FAILURE_LOG;

fn template() -> Value {
    let text = std::fs::read_to_string("../template.yaml").expect("template.yaml is at the repository root");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(tagged) => untag(&tagged.value),
        other => other,
    }
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    untag(&template["Resources"])
        .as_mapping()
        .map(|m| m.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v)).collect())
        .unwrap_or_default()
}

/// A value that is one string or a list of them (an `Action`, a condition's values).
fn strings(v: &Value) -> Vec<String> {
    match untag(v) {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().filter_map(|i| untag(i).as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// Every IAM statement under `v`: a mapping with an `Effect`.
fn statements_in(v: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match untag(v) {
            Value::Mapping(m) => {
                if m.contains_key("Effect") && (m.contains_key("Action") || m.contains_key("NotAction")) {
                    found.push(untag(v));
                }
                stack.extend(m.values());
            }
            Value::Sequence(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

fn is_function(resource: &Value) -> bool {
    untag(&resource["Type"]).as_str() == Some("AWS::Serverless::Function")
}

fn binary(resource: &Value) -> &str {
    untag(&resource["Metadata"]["BuildProperties"]["Binary"]).as_str().unwrap_or_default()
}

/// A function's statements: its inline policies and the managed policies it names with `!Ref`.
fn function_statements<'t>(template: &'t Value, function: &'t Value) -> Vec<&'t Value> {
    let mut found = Vec::new();
    for policy in untag(&function["Properties"]["Policies"]).as_sequence().into_iter().flatten() {
        match policy {
            Value::Tagged(tagged) if tagged.tag == "Ref" => {
                if let Some(name) = untag(&tagged.value).as_str() {
                    found.extend(statements_in(&template["Resources"][name]["Properties"]["PolicyDocument"]));
                }
            }
            other => found.extend(statements_in(other)),
        }
    }
    found
}

fn effect(statement: &Value) -> &str {
    untag(&statement["Effect"]).as_str().unwrap_or_default()
}

/// The values a statement's condition gives `dynamodb:LeadingKeys`, with the operator.
fn leading_keys(statement: &Value) -> Option<(String, Vec<String>)> {
    untag(&statement["Condition"]).as_mapping()?.iter().find_map(|(operator, keys)| {
        let values = untag(keys).as_mapping()?.get("dynamodb:LeadingKeys")?;
        Some((operator.as_str().unwrap_or_default().to_owned(), strings(values)))
    })
}

/// The Deny that keeps a log append-only: updates, deletes and batch writes (which put without a
/// condition, or delete) refused on any item whose partition is the log's.
fn keeps_append_only(statement: &Value, partition: &str) -> bool {
    let actions = strings(&statement["Action"]);
    let covers = ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
        .iter()
        .all(|a| actions.iter().any(|b| b == a));
    effect(statement) == "Deny"
        && covers
        && leading_keys(statement).is_some_and(|(operator, values)| {
            operator.starts_with("ForAnyValue:") && values.iter().any(|v| v == partition)
        })
}

/// What the policies do that least privilege forbids.
fn problems(template: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (name, resource) in resources(template) {
        for statement in statements_in(resource) {
            if untag(statement).as_mapping().is_some_and(|m| m.contains_key("NotAction")) {
                out.push(format!("{name}: NotAction grants everything it does not name"));
            }
            for action in strings(&statement["Action"]) {
                if action.contains('*') {
                    out.push(format!("{name}: wildcard action {action}"));
                }
                if action == "dynamodb:Scan" && effect(statement) == "Allow" {
                    out.push(format!("{name}: dynamodb:Scan (no code path scans the table)"));
                }
            }
            let sid = untag(&statement["Sid"]).as_str().unwrap_or_default().to_ascii_lowercase();
            let mentions_journal = sid.contains("audit") || sid.contains("journal");
            if mentions_journal && leading_keys(statement).is_none() {
                out.push(format!("{name}: audit-log statement {sid:?} without its dynamodb:LeadingKeys condition"));
            }
        }
        if !is_function(resource) {
            continue;
        }
        for policy in untag(&resource["Properties"]["Policies"]).as_sequence().into_iter().flatten() {
            // A SAM policy template is a one-key mapping named after it; an AWS managed policy is
            // named by a string.
            let named: Vec<String> = match untag(policy) {
                Value::Mapping(m) => m
                    .keys()
                    .filter_map(|k| k.as_str())
                    .filter(|k| !matches!(*k, "Statement" | "Version"))
                    .map(str::to_owned)
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            };
            for template_name in named {
                if template_name.contains("DynamoDB") {
                    out.push(format!("{name}: {template_name} grants a whole table"));
                }
            }
        }
        let statements = function_statements(template, resource);
        if binary(resource) == "telegram-webhook" {
            for statement in statements.iter().filter(|s| effect(s) == "Allow") {
                for action in strings(&statement["Action"]) {
                    if matches!(action.as_str(), "dynamodb:Scan" | "dynamodb:DeleteItem" | "dynamodb:PartiQLDelete") {
                        out.push(format!("{name}: the webhook is allowed {action}"));
                    }
                }
            }
        }
        for partition in [AUDIT_PARTITION, ERROR_PARTITION] {
            if !statements.iter().any(|s| keeps_append_only(s, partition)) {
                out.push(format!(
                    "{name}: no Deny of UpdateItem, DeleteItem and BatchWriteItem on dynamodb:LeadingKeys {partition}"
                ));
            }
        }
    }
    out
}

#[test]
fn every_function_has_only_what_it_uses_and_no_function_can_rewrite_the_logs() {
    let template = template();
    assert!(resources(&template).iter().filter(|(_, r)| is_function(r)).count() >= 7);
    let problems = problems(&template);
    assert!(problems.is_empty(), "template.yaml:\n  {}", problems.join("\n  "));
}

#[test]
fn each_kind_of_problem_is_caught() {
    let yaml = r#"
Resources:
  Wide:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: dynamodb:*
            Resource: !GetAtt Table.Arn
          - Effect: Allow
            NotAction: iam:PassRole
            Resource: "*"
          - Sid: AuditLogAppendOnly
            Effect: Deny
            Action: [dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:BatchWriteItem]
            Resource: !GetAtt Table.Arn
  Webhook:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: telegram-webhook } }
    Properties:
      Policies:
        - DynamoDBCrudPolicy: { TableName: !Ref Table }
        - AmazonDynamoDBReadOnlyAccess
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:DeleteItem, dynamodb:Scan]
              Resource: !GetAtt Table.Arn
        - !Ref Wide
"#;
    let problems = problems(&serde_yaml::from_str(yaml).unwrap());
    let expect = [
        "Wide: wildcard action dynamodb:*",
        "Wide: NotAction grants everything it does not name",
        "Wide: audit-log statement \"auditlogappendonly\" without its dynamodb:LeadingKeys condition",
        "Webhook: DynamoDBCrudPolicy grants a whole table",
        "Webhook: AmazonDynamoDBReadOnlyAccess grants a whole table",
        "Webhook: dynamodb:Scan (no code path scans the table)",
        "Webhook: the webhook is allowed dynamodb:DeleteItem",
        "Webhook: the webhook is allowed dynamodb:Scan",
        "Webhook: no Deny of UpdateItem, DeleteItem and BatchWriteItem on dynamodb:LeadingKeys AUDIT",
        "Webhook: no Deny of UpdateItem, DeleteItem and BatchWriteItem on dynamodb:LeadingKeys ERRORS",
    ];
    for expected in expect {
        assert!(problems.iter().any(|p| p == expected), "{expected:?} not in {problems:#?}");
    }

    // The Deny with its condition satisfies the rule; ForAllValues would let a batch mixing a log
    // item with another through, so it does not.
    let deny = |operator: &str| {
        serde_yaml::from_str::<Value>(&format!(
            "Effect: Deny\nAction: [dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:BatchWriteItem]\n\
             Resource: !GetAtt Table.Arn\nCondition:\n  {operator}:\n    dynamodb:LeadingKeys: [AUDIT, ERRORS]\n"
        ))
        .unwrap()
    };
    assert!(keeps_append_only(&deny("ForAnyValue:StringEquals"), AUDIT_PARTITION));
    assert!(keeps_append_only(&deny("ForAnyValue:StringEquals"), ERROR_PARTITION));
    assert!(!keeps_append_only(&deny("ForAllValues:StringEquals"), AUDIT_PARTITION));
}

fn of_type<'t>(template: &'t Value, kind: &str) -> Vec<(String, &'t Value)> {
    resources(template).into_iter().filter(|(_, r)| untag(&r["Type"]).as_str() == Some(kind)).collect()
}

/// The logical id a `!Ref` or `!GetAtt X.Arn` names.
fn referenced(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(tagged) if tagged.tag == "Ref" => untag(&tagged.value).as_str().map(str::to_owned),
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => match untag(&tagged.value) {
            Value::String(s) => s.split('.').next().map(str::to_owned),
            Value::Sequence(parts) => parts.first().and_then(|p| untag(p).as_str()).map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn staff_need_mfa_the_api_logs_access_and_alarms_are_encrypted_and_raised_on_background_failures() {
    let template = template();
    let properties = |v: &'static str| -> Vec<&Value> {
        of_type(&template, v).into_iter().map(|(_, r)| &r["Properties"]).collect::<Vec<_>>()
    };

    // MFA: TOTP, and required unless the stack is told its pool predates it.
    for pool in properties("AWS::Cognito::UserPool") {
        assert!(strings(&pool["EnabledMfas"]).contains(&"SOFTWARE_TOKEN_MFA".to_owned()), "TOTP enabled");
        let mfa = &pool["MfaConfiguration"];
        let (default, allowed) = match referenced(mfa) {
            Some(parameter) => {
                let p = &template["Parameters"][parameter.as_str()];
                (untag(&p["Default"]).as_str().unwrap_or_default().to_owned(), strings(&p["AllowedValues"]))
            }
            None => (untag(mfa).as_str().unwrap_or_default().to_owned(), Vec::new()),
        };
        assert_eq!(default, "ON", "MFA is required by default");
        assert!(!allowed.contains(&"OFF".to_owned()), "MFA cannot be turned off: {allowed:?}");
    }

    // Access logs, to a log group that expires.
    for api in properties("AWS::Serverless::HttpApi") {
        let group = referenced(&api["AccessLogSettings"]["DestinationArn"]).expect("the API logs access");
        let group = &template["Resources"][group.as_str()];
        assert_eq!(untag(&group["Type"]).as_str(), Some("AWS::Logs::LogGroup"));
        assert!(group["Properties"]["RetentionInDays"].as_u64().is_some(), "access logs are kept for a time");
        let format = untag(&api["AccessLogSettings"]["Format"]).as_str().unwrap_or_default();
        assert!(format.contains("$context.status") && !format.contains("header"), "{format}");
    }

    // Alarm topics encrypted.
    let topics = of_type(&template, "AWS::SNS::Topic");
    assert!(!topics.is_empty());
    for (name, topic) in &topics {
        assert!(!topic["Properties"]["KmsMasterKeyId"].is_null(), "{name} is encrypted");
    }

    // Every function's log is watched for background failures, and the count raises an alarm.
    let pattern = format!(r#"{{ $.fields.message = "{BACKGROUND_FAILURE_LOG}" }}"#);
    let filters = of_type(&template, "AWS::Logs::MetricFilter");
    let log_groups = of_type(&template, "AWS::Logs::LogGroup");
    for (function, _) in resources(&template).into_iter().filter(|(_, r)| is_function(r)) {
        let group = log_groups
            .iter()
            .find(|(_, g)| match &g["Properties"]["LogGroupName"] {
                Value::Tagged(t) => {
                    untag(&t.value).as_str().is_some_and(|s| s == format!("/aws/lambda/${{{function}}}"))
                }
                _ => false,
            })
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| panic!("{function} has no log group"));
        let watched = filters.iter().any(|(_, f)| {
            referenced(&f["Properties"]["LogGroupName"]).as_deref() == Some(group.as_str())
                && untag(&f["Properties"]["FilterPattern"]).as_str() == Some(pattern.as_str())
        });
        assert!(watched, "{function}'s log ({group}) has a metric filter {pattern}");
    }
    let metrics: Vec<String> = filters
        .iter()
        .flat_map(|(_, f)| untag(&f["Properties"]["MetricTransformations"]).as_sequence().cloned().unwrap_or_default())
        .filter_map(|t| untag(&t["MetricName"]).as_str().map(str::to_owned))
        .collect();
    let alarmed = of_type(&template, "AWS::CloudWatch::Alarm").into_iter().any(|(_, a)| {
        let a = &a["Properties"];
        untag(&a["MetricName"]).as_str().is_some_and(|m| metrics.iter().any(|n| n == m))
            && untag(&a["AlarmActions"]).as_sequence().is_some_and(|actions| {
                actions.iter().any(|x| topics.iter().any(|(t, _)| referenced(x).as_ref() == Some(t)))
            })
    });
    assert!(alarmed, "an alarm on {metrics:?} tells the alarm topic");
}
