//! `template.yaml` must declare the table exactly as the code defines it (`TABLE`): the keys, the
//! attribute types, every index and its projection, the TTL attribute and the billing mode.

use serde_yaml::Value;
use shared::adapters::dynamodb::TABLE;
use std::collections::BTreeSet;

fn template() -> Value {
    let path = "../template.yaml";
    let text = std::fs::read_to_string(path).expect("template.yaml is at the repository root");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn the_table(template: &Value) -> &Value {
    let resources = template["Resources"].as_mapping().expect("Resources");
    let tables: Vec<&Value> =
        resources.values().filter(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table")).collect();
    assert_eq!(tables.len(), 1, "exactly one DynamoDB table");
    &tables[0]["Properties"]
}

fn key_schema(v: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    v.as_sequence()
        .map(|keys| keys.iter().map(|k| (text(&k["AttributeName"]), text(&k["KeyType"]))).collect())
        .unwrap_or_default()
}

fn pair(hash: &str, range: &str) -> Vec<(String, String)> {
    vec![(hash.to_owned(), "HASH".to_owned()), (range.to_owned(), "RANGE".to_owned())]
}

/// Every way the declared table differs from `TABLE`.
fn disagreements(table: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    check(key_schema(&table["KeySchema"]) == pair(TABLE.partition_key, TABLE.sort_key), "KeySchema".into());

    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let declared: BTreeSet<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .map(|defs| defs.iter().map(|a| (text(&a["AttributeName"]), text(&a["AttributeType"]))).collect())
        .unwrap_or_default();
    let expected: BTreeSet<(String, String)> =
        TABLE.string_attributes.iter().map(|a| ((*a).to_owned(), "S".to_owned())).collect();
    check(declared == expected, format!("AttributeDefinitions: {declared:?} != {expected:?}"));

    let indexes = table["GlobalSecondaryIndexes"].as_sequence().cloned().unwrap_or_default();
    check(indexes.len() == TABLE.indexes.len(), format!("{} indexes declared", indexes.len()));
    for index in TABLE.indexes {
        match indexes.iter().find(|i| i["IndexName"].as_str() == Some(index.name)) {
            None => check(false, format!("index {} missing", index.name)),
            Some(declared) => {
                check(
                    key_schema(&declared["KeySchema"]) == pair(index.partition_key, index.sort_key),
                    format!("index {} keys", index.name),
                );
                check(
                    declared["Projection"]["ProjectionType"].as_str() == Some("ALL"),
                    format!("index {} projection", index.name),
                );
            }
        }
    }

    let ttl = &table["TimeToLiveSpecification"];
    check(
        ttl["AttributeName"].as_str() == Some(TABLE.ttl_attribute) && ttl["Enabled"].as_bool() == Some(true),
        "TimeToLiveSpecification".into(),
    );
    let billing = if TABLE.pay_per_request { "PAY_PER_REQUEST" } else { "PROVISIONED" };
    check(table["BillingMode"].as_str() == Some(billing), "BillingMode".into());
    check(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool() == Some(true),
        "point-in-time recovery".into(),
    );
    out
}

#[test]
fn template_declares_the_table_the_code_uses() {
    assert_eq!(disagreements(the_table(&template())), Vec::<String>::new());
}

#[test]
fn each_kind_of_disagreement_is_caught() {
    let table = the_table(&template()).clone();
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 5] = [
        ("index", |t| {
            t["GlobalSecondaryIndexes"].as_sequence_mut().map(Vec::pop);
        }),
        ("sort key", |t| t["KeySchema"][1]["AttributeName"] = "Sort".into()),
        ("attribute type", |t| t["AttributeDefinitions"][2]["AttributeType"] = "N".into()),
        ("ttl", |t| t["TimeToLiveSpecification"]["AttributeName"] = "ttl".into()),
        ("billing", |t| t["BillingMode"] = "PROVISIONED".into()),
    ];
    for (what, mutate) in mutations {
        let mut changed = table.clone();
        mutate(&mut changed);
        assert!(!disagreements(&changed).is_empty(), "a changed {what} must be caught");
    }
}
