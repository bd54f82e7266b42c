//! The table definition, in one place: the adapter's key layout, the table that tests and the
//! devserver create, and what `template.yaml` must declare (a test compares them).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TableDescription, TableStatus, TimeToLiveSpecification,
};
use std::time::Duration;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1_PK: &str = "GSI1PK";
pub const GSI1_SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2_PK: &str = "GSI2PK";
pub const GSI2_SK: &str = "GSI2SK";
/// Epoch seconds after which DynamoDB may delete the item. Deletion is lazy (up to days late), so
/// readers treat an expired item as absent themselves.
pub const TTL_ATTRIBUTE: &str = "ExpiresAt";

/// A global secondary index: name, partition key, sort key; every index projects all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDefinition {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDefinition {
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    /// Every key attribute is a string.
    pub string_attributes: &'static [&'static str],
    pub indexes: &'static [IndexDefinition],
    pub ttl_attribute: &'static str,
    /// On-demand capacity: small data, bursty load.
    pub pay_per_request: bool,
}

pub const TABLE: TableDefinition = TableDefinition {
    partition_key: PK,
    sort_key: SK,
    string_attributes: &[PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK],
    indexes: &[
        IndexDefinition { name: GSI1, partition_key: GSI1_PK, sort_key: GSI1_SK },
        IndexDefinition { name: GSI2, partition_key: GSI2_PK, sort_key: GSI2_SK },
    ],
    ttl_attribute: TTL_ATTRIBUTE,
    pay_per_request: true,
};

#[derive(Debug, thiserror::Error)]
#[error("creating table {table}: {reason}")]
pub struct CreateTableError {
    pub table: String,
    pub reason: String,
}

impl TableDefinition {
    /// How an existing table's keys and indexes differ from this definition.
    pub fn differences(&self, table: &TableDescription) -> Vec<String> {
        fn keys(schema: &[KeySchemaElement]) -> Vec<(String, String)> {
            schema.iter().map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned())).collect()
        }
        let pair = |hash: &str, range: &str| {
            vec![(hash.to_owned(), "HASH".to_owned()), (range.to_owned(), "RANGE".to_owned())]
        };
        let mut out = Vec::new();
        if keys(table.key_schema()) != pair(self.partition_key, self.sort_key) {
            out.push(format!("key schema {:?}", keys(table.key_schema())));
        }
        let indexes = table.global_secondary_indexes();
        for index in self.indexes {
            match indexes.iter().find(|i| i.index_name() == Some(index.name)) {
                None => out.push(format!("index {} is missing", index.name)),
                Some(found) if keys(found.key_schema()) != pair(index.partition_key, index.sort_key) => {
                    out.push(format!("index {} has keys {:?}", index.name, keys(found.key_schema())))
                }
                Some(_) => {}
            }
        }
        out
    }

    /// Creates the table (for the devserver and tests; in AWS the SAM template does) and waits until
    /// it is active. An existing table of this layout is left as it is; one of another layout (a data
    /// file from an older version) is refused, naming the differences.
    pub async fn create(&self, client: &Client, table: &str) -> Result<(), CreateTableError> {
        let fail = |reason: String| CreateTableError { table: table.to_owned(), reason };
        if let Ok(existing) = client.describe_table().table_name(table).send().await {
            let differences = existing.table().map(|t| self.differences(t)).unwrap_or_default();
            return if differences.is_empty() {
                Ok(())
            } else {
                Err(fail(format!("it exists with another layout: {}", differences.join("; "))))
            };
        }
        let key = |name: &str, key_type: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().map_err(|e| fail(e.to_string()))
        };
        let mut request = client
            .create_table()
            .table_name(table)
            .key_schema(key(self.partition_key, KeyType::Hash)?)
            .key_schema(key(self.sort_key, KeyType::Range)?)
            .billing_mode(if self.pay_per_request { BillingMode::PayPerRequest } else { BillingMode::Provisioned });
        for name in self.string_attributes {
            let def = AttributeDefinition::builder()
                .attribute_name(*name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| fail(e.to_string()))?;
            request = request.attribute_definitions(def);
        }
        for index in self.indexes {
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.partition_key, KeyType::Hash)?)
                .key_schema(key(index.sort_key, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| fail(e.to_string()))?;
            request = request.global_secondary_indexes(gsi);
        }
        match request.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {
                return Ok(());
            }
            Err(e) => {
                return Err(fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()));
            }
        }
        for _ in 0..100 {
            let described = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
            if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                let ttl = TimeToLiveSpecification::builder()
                    .attribute_name(self.ttl_attribute)
                    .enabled(true)
                    .build()
                    .map_err(|e| fail(e.to_string()))?;
                client
                    .update_time_to_live()
                    .table_name(table)
                    .time_to_live_specification(ttl)
                    .send()
                    .await
                    .map_err(|e| fail(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(fail("did not become active within 10 seconds".into()))
    }
}
