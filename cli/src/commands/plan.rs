//! `plan`: the deployment waves of an environment from the catalog, with what each stack needs,
//! which upstream output feeds which parameter, and — when a backend is configured — whether
//! each stack is already deployed. Without one it still plans, saying the status is unknown.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use infra_agent_core::catalog::{Catalog, CatalogStack, CATALOG_FILE, TEMPLATES_DIR};
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::{self, Env, StackKey};
use infra_agent_pipeline::ports::Stacks;
use serde::Serialize;

use crate::output::{print_json, print_line, print_table, Format};

use crate::backend::Backend;

#[derive(clap::Args)]
pub struct PlanArgs {
    /// Environment to plan.
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Catalog file; templates are read from the `stacks` directory next to it.
    #[arg(long, default_value = CATALOG_FILE)]
    catalog: PathBuf,
}

#[derive(Serialize)]
struct Plan<'a> {
    waves: &'a [Vec<StackKey>],
    environment: Env,
    catalog: &'a str,
    /// Where the deployed column comes from: the stacks' live status, or why it is unknown.
    deployed_from: String,
    stacks: Vec<StackPlan<'a>>,
}

#[derive(Serialize)]
struct StackPlan<'a> {
    stack: &'a StackKey,
    wave: usize,
    phase: u32,
    phase_name: &'a str,
    stack_name: String,
    template: String,
    needs: Vec<&'a StackKey>,
    wiring: Vec<WireView<'a>>,
    /// Whether the stack exists in a deployed state; null when it could not be asked.
    deployed: Option<bool>,
    stack_status: Option<String>,
    skip_on_emulator: Option<&'a str>,
}

#[derive(Serialize)]
struct WireView<'a> {
    parameter: &'a str,
    from: String,
}

pub async fn run(
    args: &PlanArgs,
    format: Format,
    backend: Option<&Backend>,
) -> anyhow::Result<ExitCode> {
    let templates_dir = args
        .catalog
        .parent()
        .map(|dir| dir.join("stacks"))
        .unwrap_or_else(|| PathBuf::from(TEMPLATES_DIR));
    let catalog = Catalog::load(&args.catalog, &templates_dir)?;
    let config = EnvironmentConfig::builtin(args.env)?;
    catalog.check_environment(&config)?;
    let mut plan = plan(&catalog, args.env).context("the catalog's waves name a missing stack")?;
    match backend {
        Some(backend) => {
            plan.deployed_from = "live stack status (DescribeStacks)".into();
            for stack in &mut plan.stacks {
                match backend.stacks.describe_stack(&stack.stack_name).await {
                    Ok(state) => {
                        stack.deployed =
                            Some(state.as_ref().is_some_and(|s| s.status.is_deployed()));
                        stack.stack_status = state.map(|s| s.status.to_string());
                    }
                    Err(e) => {
                        plan.deployed_from = format!("unknown: {e}");
                        break;
                    }
                }
            }
        }
        None => {
            plan.deployed_from =
                "unknown: no backend configured (use --local or the INFRA_AGENT_* settings)".into();
        }
    }
    match format {
        Format::Json => print_json(&plan)?,
        Format::Table => print_plan(&plan),
    }
    Ok(ExitCode::SUCCESS)
}

fn plan(catalog: &Catalog, env: Env) -> Option<Plan<'_>> {
    let mut stacks = Vec::new();
    for (index, wave) in catalog.waves().iter().enumerate() {
        for key in wave {
            let stack = catalog.stack(key)?;
            stacks.push(stack_plan(catalog, stack, env, index + 1));
        }
    }
    Some(Plan {
        waves: catalog.waves(),
        environment: env,
        catalog: catalog.file(),
        deployed_from: String::new(),
        stacks,
    })
}

fn stack_plan<'a>(
    catalog: &'a Catalog,
    stack: &'a CatalogStack,
    env: Env,
    wave: usize,
) -> StackPlan<'a> {
    StackPlan {
        stack: &stack.key,
        wave,
        phase: stack.phase,
        phase_name: catalog.phase_name(stack.phase).unwrap_or("-"),
        stack_name: naming::stack_name(env, &stack.key),
        template: display(&stack.template),
        needs: stack.upstreams().collect(),
        wiring: stack
            .wiring
            .iter()
            .map(|w| WireView {
                parameter: &w.parameter,
                from: format!("{}.{}", w.upstream, w.output),
            })
            .collect(),
        deployed: None,
        stack_status: None,
        skip_on_emulator: stack.skip_on_emulator.as_deref(),
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn print_plan(plan: &Plan<'_>) {
    let env = plan.environment;
    print_line(format!(
        "Plan for {env} from {}: {} stacks in {} waves, stack names infra-agent-{env}-<stack>; deployed: {}",
        plan.catalog,
        plan.stacks.len(),
        plan.waves.len(),
        plan.deployed_from
    ));
    for wave in 1..=plan.waves.len() {
        let stacks: Vec<&StackPlan<'_>> = plan.stacks.iter().filter(|s| s.wave == wave).collect();
        let Some(first) = stacks.first() else {
            continue;
        };
        println!();
        print_line(format!(
            "Wave {wave} (phase {} {})",
            first.phase, first.phase_name
        ));
        // One line per wired parameter keeps the table narrow; the stack's cells go on its first.
        let mut rows = Vec::new();
        for s in &stacks {
            let wires: Vec<String> = s
                .wiring
                .iter()
                .map(|w| format!("{} ← {}", w.parameter, w.from))
                .collect();
            let mut wires = wires.into_iter();
            rows.push(vec![
                s.stack.to_string(),
                list(s.needs.iter().map(|n| n.to_string())),
                wires.next().unwrap_or_else(|| "-".into()),
                match (s.deployed, &s.stack_status) {
                    (Some(true), Some(status)) => format!("yes ({status})"),
                    (Some(false), Some(status)) => format!("no ({status})"),
                    (Some(_), None) => "no".into(),
                    (None, _) => "unknown".into(),
                },
            ]);
            for wire in wires {
                rows.push(vec![String::new(), String::new(), wire, String::new()]);
            }
        }
        print_table(
            &["Stack", "Needs", "Wiring (parameter ← output)", "Deployed"],
            &rows,
        );
    }
    let skipped: Vec<&StackPlan<'_>> = plan
        .stacks
        .iter()
        .filter(|s| s.skip_on_emulator.is_some())
        .collect();
    if !skipped.is_empty() {
        println!();
        print_line("Not deployable on the local emulator (skipped there):");
        for s in skipped {
            print_line(format!(
                "  {}: {}",
                s.stack,
                s.skip_on_emulator.unwrap_or_default()
            ));
        }
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_catalog() -> Catalog {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Catalog::load(&root.join(CATALOG_FILE), &root.join(TEMPLATES_DIR))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn json_plan_gives_each_stack_its_emulator_skip_reason_or_null() {
        let catalog = real_catalog();
        let plan = plan(&catalog, Env::Dev).expect("every wave names a stack");
        let json = serde_json::to_value(&plan).expect("serialize");
        let stacks = json["stacks"].as_array().expect("stacks");
        let reason_of = |name: &str| {
            stacks
                .iter()
                .find(|s| s["stack"] == name)
                .map(|s| s["skip_on_emulator"].clone())
                .unwrap_or_else(|| panic!("{name} planned"))
        };
        assert!(reason_of("k8s-services")
            .as_str()
            .is_some_and(|r| r.contains("AWSQS::Kubernetes::Helm")));
        assert!(reason_of("vpc").is_null());
    }
}
