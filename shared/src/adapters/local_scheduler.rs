//! The local scheduler: jobs kept in the store and fired by `App::run_due_jobs` (a loop in the
//! devserver, explicit calls with a set clock in tests). Same contract as EventBridge Scheduler.

use crate::ports::scheduler::{Job, Scheduler, SchedulerError};
use crate::ports::store::JobStore;
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Clone)]
pub struct LocalScheduler {
    jobs: Arc<dyn JobStore>,
}

impl LocalScheduler {
    pub fn new(jobs: Arc<dyn JobStore>) -> Self {
        LocalScheduler { jobs }
    }
}

#[async_trait]
impl Scheduler for LocalScheduler {
    async fn schedule(&self, job: &Job) -> Result<(), SchedulerError> {
        self.jobs.put_job(job).await.map_err(|e| SchedulerError::Unavailable(e.to_string()))
    }

    async fn cancel(&self, name: &str) -> Result<(), SchedulerError> {
        self.jobs.delete_job(name).await.map_err(|e| SchedulerError::Unavailable(e.to_string()))
    }
}
