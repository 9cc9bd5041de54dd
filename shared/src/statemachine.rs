//! The state machine definitions under `statemachine/` name functions by placeholder
//! (`${ValidateFunctionArn}`); this renders them for a given region and account.

use crate::handlers::Function;

/// The deploy state machine as written in the repository.
pub const DEPLOY_DEFINITION: &str = include_str!("../../statemachine/deploy.asl.json");
/// The deploy-environment state machine: waves of stacks, each through the deploy machine.
pub const ENVIRONMENT_DEFINITION: &str =
    include_str!("../../statemachine/deploy-environment.asl.json");

pub const DEPLOY_MACHINE_NAME: &str = "infra-agent-deploy";
pub const ENVIRONMENT_MACHINE_NAME: &str = "infra-agent-deploy-environment";
/// Placeholder of the deploy machine's ARN in the deploy-environment machine.
const DEPLOY_MACHINE_PLACEHOLDER: &str = "${DeployStateMachineArn}";

/// Replaces every function placeholder with the function's ARN, and the deploy machine's
/// placeholder with its ARN.
pub fn render(definition: &str, region: &str, account: &str) -> String {
    Function::ALL
        .iter()
        .fold(definition.to_string(), |text, f| {
            text.replace(
                f.arn_placeholder(),
                &format!("arn:aws:lambda:{region}:{account}:function:{}", f.name()),
            )
        })
        .replace(
            DEPLOY_MACHINE_PLACEHOLDER,
            &state_machine_arn(region, account, DEPLOY_MACHINE_NAME),
        )
}

pub fn state_machine_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_of_the_deploy_machine_is_substituted() {
        let rendered = render(DEPLOY_DEFINITION, "us-east-1", "123456789012");
        assert!(!rendered.contains("${"), "unsubstituted placeholder left");
        assert!(
            rendered.contains("arn:aws:lambda:us-east-1:123456789012:function:infra-agent-record")
        );
        let value: serde_json::Value = serde_json::from_str(&rendered).expect("valid JSON");
        assert_eq!(value["StartAt"], "Start deployment");
    }

    #[test]
    fn environment_machine_names_the_environment_function_and_the_deploy_machine() {
        let rendered = render(ENVIRONMENT_DEFINITION, "eu-west-1", "210987654321");
        assert!(!rendered.contains("${"), "unsubstituted placeholder left");
        let value: serde_json::Value = serde_json::from_str(&rendered).expect("valid JSON");
        let states = &value["States"];
        assert_eq!(
            states["Plan next wave"]["Resource"],
            "arn:aws:lambda:eu-west-1:210987654321:function:infra-agent-environment"
        );
        let deploy = &states["Deploy wave"]["ItemProcessor"]["States"]["Deploy stack"];
        assert_eq!(
            deploy["Parameters"]["StateMachineArn"],
            "arn:aws:states:eu-west-1:210987654321:stateMachine:infra-agent-deploy"
        );
        assert_eq!(
            deploy["Resource"],
            "arn:aws:states:::states:startExecution.sync:2"
        );
    }
}
