//! Environment runs in DynamoDB, beside the stack heads of the environment.

use async_trait::async_trait;
use infra_agent_core::naming::Env;
use infra_agent_core::records::EnvironmentRun;
use infra_agent_core::StepError;

use super::{from_item, keys, to_item, DynamoStore};
use crate::ports::Runs;

#[async_trait]
impl Runs for DynamoStore {
    async fn put_environment_run(&self, run: &EnvironmentRun) -> Result<(), StepError> {
        let item = to_item(
            run,
            keys::environment_partition(run.env),
            keys::environment_run_sort(&run.run_id),
        )?;
        self.put(item).await
    }

    async fn environment_run(
        &self,
        env: Env,
        run_id: &str,
    ) -> Result<Option<EnvironmentRun>, StepError> {
        self.get(
            &keys::environment_partition(env),
            &keys::environment_run_sort(run_id),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Runs of an environment, newest first.
    async fn environment_runs(
        &self,
        env: Env,
        limit: Option<i32>,
    ) -> Result<Vec<EnvironmentRun>, StepError> {
        self.query_prefix(
            &keys::environment_partition(env),
            keys::ENVIRONMENT_RUN_PREFIX,
            true,
            limit,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }
}
