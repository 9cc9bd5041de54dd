//! The state machine definitions under `statemachine/` name functions by placeholder
//! (`${ValidateFunctionArn}`); this renders them for a given region and account.

use crate::handlers::Function;

/// The deploy state machine as written in the repository.
pub const DEPLOY_DEFINITION: &str = include_str!("../../statemachine/deploy.asl.json");

/// Replaces every function placeholder with the function's ARN.
pub fn render(definition: &str, region: &str, account: &str) -> String {
    Function::ALL
        .iter()
        .fold(definition.to_string(), |text, f| {
            text.replace(
                f.arn_placeholder(),
                &format!("arn:aws:lambda:{region}:{account}:function:{}", f.name()),
            )
        })
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
}
