//! Due jobs for the local scheduler: `JOB#<name>`, listed by due time in GSI1 (`JOB`).

use super::entities::sortable;
use super::errors::unless_condition_failed;
use super::{DynamoStore, Query, SortCondition, table};
use crate::domain::time::Timestamp;
use crate::ports::scheduler::{Job, JobPayload};
use crate::ports::store::{JobStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use table::{GSI1_PK, GSI1_SK, PK, SK};

const NAME: &str = "job";
const LIST: &str = "JOB";

fn key(name: &str) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("JOB#{name}")), AttributeValue::S("#JOB".into()))
}

fn read(item: &super::Item) -> Result<Job, StoreError> {
    let text = |attr: &str| item.get(attr).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let name = text("Name");
    let corrupt = |reason: String| StoreError::Corrupt { entity: NAME, id: name.clone(), reason };
    let at = text("At").parse::<Timestamp>().map_err(|e| corrupt(e.to_string()))?;
    let payload: JobPayload = serde_json::from_str(&text("Payload")).map_err(|e| corrupt(e.to_string()))?;
    Ok(Job { name: name.clone(), at, payload })
}

#[async_trait]
impl JobStore for DynamoStore {
    async fn put_job(&self, job: &Job) -> Result<(), StoreError> {
        let (pk, sk) = key(&job.name);
        let payload = serde_json::to_string(&job.payload).map_err(|e| StoreError::Corrupt {
            entity: NAME,
            id: job.name.clone(),
            reason: e.to_string(),
        })?;
        let item = HashMap::from([
            (PK.to_owned(), pk),
            (SK.to_owned(), sk),
            (GSI1_PK.to_owned(), AttributeValue::S(LIST.into())),
            (GSI1_SK.to_owned(), AttributeValue::S(format!("{}#{}", sortable(job.at), job.name))),
            ("Entity".to_owned(), AttributeValue::S(NAME.into())),
            ("Name".to_owned(), AttributeValue::S(job.name.clone())),
            ("At".to_owned(), AttributeValue::S(job.at.to_rfc3339())),
            ("Payload".to_owned(), AttributeValue::S(payload)),
        ]);
        // A job of the same name already there is left as it is.
        self.put_new(item, NAME, &job.name).await.map(|_| ())
    }

    async fn delete_job(&self, name: &str) -> Result<(), StoreError> {
        self.remove_item(key(name), NAME, name).await
    }

    async fn due_jobs(&self, now: Timestamp, limit: u32) -> Result<Vec<Job>, StoreError> {
        // `~` sorts after every job name character, so every job due at `now` is included.
        let q = Query {
            index: Some(table::GSI1),
            partition: LIST.into(),
            sort: SortCondition::AtMost(format!("{}~", sortable(now))),
            filter: None,
        };
        let (items, _) = self.query_items(&q, limit, None).await?;
        items.iter().map(read).collect()
    }

    async fn take_job(&self, job: &Job) -> Result<bool, StoreError> {
        let (pk, sk) = key(&job.name);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        Ok(unless_condition_failed(result, NAME, &job.name)?.is_some())
    }
}
