//! The local backend's emulator behaves like CloudFormation where the pipeline depends on it:
//! stacks deployed through change sets have their Outputs and exports (fixed in moto 5.2.5 by
//! `scripts/moto_server_patched.py`), after a CREATE and after an UPDATE.

use std::collections::BTreeMap;

use infra_agent_core::naming::Env;
use infra_agent_tests::{unique_stack, vpc_template, Backend};

#[tokio::test(flavor = "multi_thread")]
async fn change_set_deployments_give_the_stack_its_outputs_and_exports() {
    let backend = Backend::connect().await;
    let stack = unique_stack("outs");
    let stack_name = infra_agent_core::naming::stack_name(Env::Dev, &stack);
    let template = vpc_template(&BTreeMap::new());

    let created = backend.start(&stack, &template, "1.0.0").await;
    let ended = backend.approve_via_link(&created, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    let outputs = backend
        .pipeline
        .stacks
        .stack_outputs(&stack_name)
        .await
        .expect("describe stack");
    for key in ["VpcId", "PublicSubnetIds", "PrivateSubnetIds"] {
        let value = outputs.get(key).map(String::as_str).unwrap_or_default();
        assert!(!value.is_empty(), "output {key} after CREATE: {outputs:?}");
    }
    assert!(outputs["VpcId"].starts_with("vpc-"), "{outputs:?}");
    assert_eq!(outputs["PrivateSubnetIds"].split(',').count(), 3);

    // Every page: the other tests' stacks export too.
    let mut exports = Vec::new();
    let mut pages = backend.cfn.list_exports().into_paginator().send();
    while let Some(page) = pages.next().await {
        exports.extend(page.expect("list exports").exports().to_vec());
    }
    let exported = exports
        .iter()
        .find(|e| e.name() == Some(format!("{stack_name}-VpcId").as_str()))
        .and_then(|e| e.value());
    assert_eq!(exported, Some(outputs["VpcId"].as_str()), "export of VpcId");

    // A new IaC version changes every resource's tags: an UPDATE change set.
    let updated = backend.start(&stack, &template, "1.1.0").await;
    let ended = backend.approve_via_link(&updated, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    assert_eq!(
        backend.stack_status(&updated).await.as_deref(),
        Some("UPDATE_COMPLETE")
    );
    let after = backend
        .pipeline
        .stacks
        .stack_outputs(&stack_name)
        .await
        .expect("describe stack");
    assert_eq!(after, outputs, "outputs after UPDATE");
}
