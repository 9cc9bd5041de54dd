//! One module per group of commands.

pub mod approve;
pub mod cost;
pub mod deploy;
pub mod destroy;
pub mod drift;
pub mod install;
pub mod plan;
pub mod promote;
pub mod rollback;
pub mod status;
pub mod unlock;
pub mod validate;

/// Parses an environment name for clap.
pub fn parse_env(text: &str) -> Result<infra_agent_core::naming::Env, String> {
    text.parse()
        .map_err(|e: infra_agent_core::naming::NameError| e.to_string())
}
