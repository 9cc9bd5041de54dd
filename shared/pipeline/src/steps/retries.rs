//! Every step run twice with the same input, as Step Functions' Retry does after a timeout that
//! hid a success: the second run creates no second change set, record, approval or message, and
//! the deployment ends as if each step had run once. Against the in-memory ports, which log
//! every CloudFormation call.

use infra_agent_core::contract::approval::{ApprovalRequest, TaskToken};
use infra_agent_core::contract::change_set::ResourceChange;
use infra_agent_core::contract::cost::CostInput;
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::execute::{ExecuteInput, StackPhase};
use infra_agent_core::contract::record::{DeploymentState, DeploymentStatus, FinishInput, Outcome};
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};

use crate::fakes::Fakes;
use crate::functions;
use crate::ports::{AuditTrail, Deployments, Locks, TemplateStore};
use crate::steps::{approval, begin, change_set, cost, execute, finish, validate};

/// A template that passes every rule: one log group, tagged and kept a year.
const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment: { Type: String }
  Owner: { Type: String }
  SecurityLevel: { Type: String }
  IaCVersion: { Type: String }
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 365
      Tags:
        - { Key: Environment, Value: !Ref Environment }
        - { Key: Owner, Value: !Ref Owner }
        - { Key: SecurityLevel, Value: !Ref SecurityLevel }
        - { Key: IaC_Version, Value: !Ref IaCVersion }
"#;

async fn request(fakes: &Fakes, stack: &StackKey) -> DeployRequest {
    let template = fakes
        .templates
        .put_template("infra-agent-test-templates", stack, TEMPLATE)
        .await
        .unwrap();
    DeployRequest {
        promoted_from: None,
        returns_to: None,
        kind: Default::default(),
        version: CONTRACT_VERSION,
        deployment_id: new_execution_name(Env::Dev, stack),
        stack: stack.clone(),
        env: Env::Dev,
        template,
        requested_by: "alice".into(),
        iac_version: "1.0.0".into(),
        approval_timeout_seconds: None,
        parameters: Default::default(),
    }
}

#[tokio::test]
async fn every_step_run_twice_has_the_effect_of_running_once() {
    let fakes = Fakes::new();
    // Each step runs on its own function's wiring: a port it uses but is not wired with fails.
    let record = functions::wire_record(&fakes);
    let stack: StackKey = "logs".parse().unwrap();
    let request = request(&fakes, &stack).await;
    fakes.stacks.set_next_changes(vec![ResourceChange {
        action: "CREATE".into(),
        logical_id: "Logs".into(),
        resource_type: "AWS::Logs::LogGroup".into(),
        replacement: None,
    }]);

    let plan = begin::begin(&record, &request).await.unwrap();
    let plan_again = begin::begin(&record, &request).await.unwrap();
    assert_eq!(
        plan_again.change_set_name, plan.change_set_name,
        "one change-set name"
    );

    let validation = validate::validate(&functions::wire_validate(&fakes), &request)
        .await
        .unwrap();
    let validation_again = validate::validate(&functions::wire_validate(&fakes), &request)
        .await
        .unwrap();
    assert!(validation.passed, "{:?}", validation.findings);
    assert_eq!(
        validation_again.report, validation.report,
        "one stored report"
    );

    let created =
        change_set::create_change_set(&functions::wire_create_change_set(&fakes), &request, &plan)
            .await
            .unwrap();
    let created_again =
        change_set::create_change_set(&functions::wire_create_change_set(&fakes), &request, &plan)
            .await
            .unwrap();
    assert_eq!(created_again.change_set_name, created.change_set_name);
    assert!(created.has_changes);

    let cost_input = CostInput {
        request: request.clone(),
        change_set: created.clone(),
    };
    let estimate = cost::estimate_cost(&functions::wire_cost_estimate(&fakes), &cost_input)
        .await
        .unwrap();
    assert_eq!(
        cost::estimate_cost(&functions::wire_cost_estimate(&fakes), &cost_input)
            .await
            .unwrap(),
        estimate
    );

    let ask = |token: &str| ApprovalRequest {
        task_token: TaskToken::new(token.into()),
        request: request.clone(),
        plan: plan.clone(),
        change_set: created.clone(),
        validation: Some(validation.clone()),
        cost: Some(estimate.clone()),
    };
    let asked = approval::request_approval(&functions::wire_approval(&fakes), &ask("token-1"))
        .await
        .unwrap();
    let asked_again =
        approval::request_approval(&functions::wire_approval(&fakes), &ask("token-2"))
            .await
            .unwrap();
    assert_eq!(asked_again.approval_id, asked.approval_id, "one approval");
    assert_eq!(
        fakes.notifier.published().len(),
        1,
        "approvers are told once"
    );

    let execute_input = ExecuteInput {
        request: request.clone(),
        plan: plan.clone(),
        change_set: created.clone(),
        execution: None,
    };
    let started = execute::start(&functions::wire_execute(&fakes), &execute_input)
        .await
        .unwrap();
    let started_again = execute::start(&functions::wire_execute(&fakes), &execute_input)
        .await
        .unwrap();
    assert_eq!(started.phase, StackPhase::Succeeded);
    assert_eq!(
        started_again.phase,
        StackPhase::Succeeded,
        "a change set executed by the first attempt counts for the second: {started_again:?}"
    );

    let state = DeploymentState {
        plan: Some(plan.clone()),
        validation: Some(validation),
        change_set: Some(created),
        cost: Some(estimate),
        execution: Some(started),
        ..DeploymentState::of(request.clone())
    };
    let input = FinishInput {
        outcome: Outcome::Succeeded,
        state,
    };
    finish::finish(&record, &input).await.unwrap();
    finish::finish(&record, &input).await.unwrap();

    let calls = fakes.stacks.calls();
    let count = |op: &str| calls.iter().filter(|c| c.starts_with(op)).count();
    assert_eq!(
        fakes.stacks.change_sets(&plan.stack_name).len(),
        1,
        "one change set: {calls:?}"
    );
    assert_eq!(count("DeleteChangeSet"), 0, "{calls:?}");
    assert_eq!(count("DeleteStack"), 0, "{calls:?}");
    let history = fakes.store.history(Env::Dev, "logs", None).await.unwrap();
    assert_eq!(history.len(), 1, "one deployment record");
    assert_eq!(history[0].status, DeploymentStatus::Succeeded);
    assert!(fakes.store.lock(Env::Dev, "logs").await.unwrap().is_none());
    let trail = fakes.store.audit_trail(Env::Dev, "logs").await.unwrap();
    let finishes = trail
        .iter()
        .filter(|e| e.action == "deployment.finish")
        .count();
    assert!(finishes >= 1, "{trail:?}");
}

#[tokio::test]
async fn a_change_set_runs_as_its_environments_cloudformation_service_role() {
    let fakes = Fakes::new();
    let stack: StackKey = "logs".parse().unwrap();
    let request = request(&fakes, &stack).await;
    let plan = begin::begin(&functions::wire_record(&fakes), &request)
        .await
        .unwrap();

    change_set::create_change_set(&functions::wire_create_change_set(&fakes), &request, &plan)
        .await
        .unwrap();

    assert_eq!(
        fakes.stacks.role_of(&plan.stack_name).as_deref(),
        Some("arn:aws:iam::123456789012:role/infra-agent-cloudformation-dev")
    );
}

#[tokio::test]
async fn a_remediation_reverts_drift_of_an_existing_stack_and_refuses_a_missing_one() {
    use infra_agent_core::contract::deploy::DeploymentKind;
    use infra_agent_core::stack::StackStatus;
    use infra_agent_core::StepError;

    let fakes = Fakes::new();
    let stack: StackKey = "logs".parse().unwrap();
    let request = DeployRequest {
        kind: DeploymentKind::Remediation,
        ..request(&fakes, &stack).await
    };
    let plan = begin::begin(&functions::wire_record(&fakes), &request)
        .await
        .unwrap();
    let wired = functions::wire_create_change_set(&fakes);

    // Nothing deployed: nothing to revert, and no change set is created.
    let refused = change_set::create_change_set(&wired, &request, &plan)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, StepError::ChangeSetFailed { reason, .. } if reason.contains("no drift to revert")),
        "{refused}"
    );
    assert!(fakes.stacks.change_sets(&plan.stack_name).is_empty());

    fakes
        .stacks
        .put_stack(&plan.stack_name, StackStatus::UpdateComplete, &[]);
    change_set::create_change_set(&wired, &request, &plan)
        .await
        .unwrap();
    let created = format!(
        "CreateChangeSet {}/{} REVERT_DRIFT",
        plan.stack_name, plan.change_set_name
    );
    assert!(
        fakes.stacks.calls().contains(&created),
        "{:?}",
        fakes.stacks.calls()
    );
    let record = fakes
        .store
        .deployment(Env::Dev, "logs", &request.deployment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.kind, DeploymentKind::Remediation);
}
