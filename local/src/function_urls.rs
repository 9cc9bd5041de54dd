//! Part of the bootstrap until the local backend deploys the pipeline's template: the functions
//! that have a URL (the registry says which, and with which AuthType) are created in the emulator
//! with their URL configuration, so the host finds how each URL authenticates. Their code never
//! runs there: the host runs every function in-process.

use anyhow::{ensure, Context};
use infra_agent_core::registry::Function;
use serde_json::json;

use crate::emulator::Emulator;

/// The role the emulator requires a function to name.
const ROLE: &str = "infra-agent-functions";
/// An empty zip archive: the emulator keeps the code, and nothing runs it.
const EMPTY_ZIP: &str = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==";

/// Creates every URL function and its URL configuration; safe to run again.
pub async fn create(emulator: &Emulator, account: &str) -> anyhow::Result<()> {
    let form = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={ROLE}&AssumeRolePolicyDocument={}",
        form_urlencoded::byte_serialize(
            json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
            })
            .to_string()
            .as_bytes()
        )
        .collect::<String>()
    );
    let role = emulator
        .call(
            "iam",
            "POST",
            "/",
            "application/x-www-form-urlencoded",
            form.into_bytes(),
        )
        .await?;
    ensure!(
        role.status < 300 || String::from_utf8_lossy(&role.body).contains("EntityAlreadyExists"),
        "create role {ROLE}: HTTP {}: {}",
        role.status,
        String::from_utf8_lossy(&role.body)
    );
    for function in Function::ALL {
        let Some(auth) = function.url_auth() else {
            continue;
        };
        let name = function.name();
        let spec = json!({
            "FunctionName": name,
            "Runtime": "provided.al2023",
            "Role": format!("arn:aws:iam::{account}:role/{ROLE}"),
            "Handler": "bootstrap",
            "Code": {"ZipFile": EMPTY_ZIP},
        });
        let created = lambda(emulator, "POST", "/2015-03-31/functions", spec).await?;
        ensure!(
            created.0 < 300 || created.1.contains("ResourceConflictException"),
            "create function {name}: HTTP {}: {}",
            created.0,
            created.1
        );
        let path = format!("/2021-10-31/functions/{name}/url");
        let url = lambda(emulator, "POST", &path, json!({"AuthType": auth.as_str()})).await?;
        if url.1.contains("ResourceConflictException") {
            let updated =
                lambda(emulator, "PUT", &path, json!({"AuthType": auth.as_str()})).await?;
            ensure!(updated.0 < 300, "update the URL of {name}: {}", updated.1);
        } else {
            ensure!(
                url.0 < 300,
                "create the URL of {name}: HTTP {}: {}",
                url.0,
                url.1
            );
        }
    }
    Ok(())
}

async fn lambda(
    emulator: &Emulator,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<(u16, String)> {
    let answer = emulator
        .call(
            "lambda",
            method,
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
        .with_context(|| format!("{method} {path}"))?;
    Ok((
        answer.status,
        String::from_utf8_lossy(&answer.body).into_owned(),
    ))
}
