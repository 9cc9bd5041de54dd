//! `cost`: the monthly estimate of a stack or template in one environment, from the offline price
//! book, with formulas, usage ranges and what was not priced; for a catalog stack, with a backend
//! configured, also the change against the stack as last deployed (before → after, per resource).

use infra_agent_pipeline::ports::Deployments;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use infra_agent_core::cost::{delta, estimate_with_builtin_prices, CostDelta, CostEstimate, Usd};
use infra_agent_core::environment::environment_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::stack_name;
use infra_agent_core::naming::{Env, StackKey};
use infra_agent_core::template::Template;
use infra_agent_core::validation::ValidationContext;
use infra_agent_pipeline::ports::{Stacks, TemplateStore};

use crate::backend::Backend;
use crate::output::{print_json, print_line, print_table, Format};

#[derive(clap::Args)]
pub struct CostArgs {
    /// Stack of the catalog: prices infra/stacks/<stack>.yaml.
    #[arg(required_unless_present = "template", conflicts_with = "template")]
    stack: Option<String>,
    /// Template file to price instead of a catalog stack.
    #[arg(long)]
    template: Option<PathBuf>,
    /// Environment whose parameters and region are priced.
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
}

pub async fn run(
    args: &CostArgs,
    format: Format,
    backend: Option<&Backend>,
) -> anyhow::Result<ExitCode> {
    let path = match (&args.template, &args.stack) {
        (Some(path), _) => path.clone(),
        (None, Some(stack)) => {
            let stack: StackKey = stack.parse()?;
            PathBuf::from(format!("infra/stacks/{stack}.yaml"))
        }
        (None, None) => anyhow::bail!("name a stack or pass --template FILE"),
    };
    let source = path.display().to_string();
    let body = std::fs::read_to_string(&path).with_context(|| format!("cannot read {source}"))?;
    let template = Template::parse(&source, &body)?;
    let config = EnvironmentConfig::builtin(args.env)?;
    let ctx = ValidationContext {
        env: Some(args.env),
        // IaC_Version is known only at deploy time and changes no price.
        parameters: environment_parameters(&config, env!("CARGO_PKG_VERSION")),
    };
    let estimate = estimate_with_builtin_prices(&template, &ctx, &config.region)?;
    let change = match (backend, &args.stack) {
        (Some(backend), Some(stack)) => {
            Some(against_deployed(backend, args.env, &stack.parse()?, &config, &estimate).await?)
        }
        _ => None,
    };
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(&estimate)?;
            if let (Some(change), Some(object)) = (&change, value.as_object_mut()) {
                object.insert("delta".into(), serde_json::to_value(&change.delta)?);
                object.insert(
                    "compared_with".into(),
                    serde_json::to_value(&change.compared_with)?,
                );
            }
            print_json(&value)?
        }
        Format::Table => {
            print_estimate(&source, args.env, &estimate);
            if let Some(change) = &change {
                print_change(change);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The estimate's change against the stack as deployed.
struct Change {
    /// The deployment compared with; none when the stack was never deployed.
    compared_with: Option<String>,
    delta: CostDelta,
}

/// Prices the template of the stack's last successful deployment with the parameters it was
/// deployed with, from the same price book, and returns the difference.
async fn against_deployed(
    backend: &Backend,
    env: Env,
    stack: &StackKey,
    config: &EnvironmentConfig,
    after: &CostEstimate,
) -> anyhow::Result<Change> {
    let live = backend
        .stacks
        .describe_stack(&stack_name(env, stack))
        .await?
        .is_some_and(|s| s.status.is_deployed());
    let deployed = if live {
        backend.store.last_succeeded(env, stack.as_str()).await?
    } else {
        None
    };
    let Some(record) = deployed else {
        return Ok(Change {
            compared_with: None,
            delta: delta(
                &CostEstimate::empty(&after.region, &after.prices_as_of),
                after,
            ),
        });
    };
    let body = backend
        .templates
        .get_template(&record.template_ref())
        .await?;
    let template = Template::parse(&record.template_key, &body)?;
    let mut parameters = environment_parameters(config, &record.iac_version);
    parameters.extend(record.parameters.clone());
    let ctx = ValidationContext {
        env: Some(env),
        parameters,
    };
    let before = estimate_with_builtin_prices(&template, &ctx, &config.region)?;
    Ok(Change {
        compared_with: Some(record.deployment_id),
        delta: delta(&before, after),
    })
}

fn print_change(change: &Change) {
    let d = &change.delta;
    println!();
    match &change.compared_with {
        Some(id) => print_line(format!(
            "Change against the deployed stack (deployment {id}):"
        )),
        None => print_line("Change: the stack is not deployed; all of it is new:"),
    }
    print_line(format!(
        "  {} → {} per month ({}{})",
        d.before_monthly,
        d.after_monthly,
        if d.delta_monthly.micros() >= 0 {
            "+"
        } else {
            ""
        },
        d.delta_monthly
    ));
    let costs = |u: Option<Usd>| u.is_some_and(|u| u != Usd::ZERO);
    let (priced, free): (Vec<_>, Vec<_>) = d
        .resources
        .iter()
        .partition(|r| costs(r.before_monthly) || costs(r.after_monthly));
    if priced.is_empty() {
        print_line("  no resource changes what it costs");
    }
    if !free.is_empty() {
        print_line(format!(
            "  ({} resources added or removed at $0.00)",
            free.len()
        ));
    }
    for r in priced {
        print_line(format!(
            "  {} ({}): {} → {}",
            r.logical_id,
            r.resource_type,
            r.before_monthly.map_or("-".to_string(), |u| u.to_string()),
            r.after_monthly.map_or("-".to_string(), |u| u.to_string()),
        ));
    }
}

fn print_estimate(source: &str, env: Env, estimate: &CostEstimate) {
    print_line(format!(
        "Cost estimate of {source} in {env} ({}), list prices as of {}",
        estimate.region, estimate.prices_as_of
    ));
    println!();
    let mut rows = Vec::new();
    for line in &estimate.lines {
        let free = line.unit_price == Usd::ZERO;
        rows.push(vec![
            line.resource_type.clone(),
            // An hourly line counts resources; other units count what is billed (GB, keys).
            if free || line.unit == "hr" {
                line.quantity.to_string()
            } else {
                format!("{} {}", line.quantity, line.unit)
            },
            line.monthly.to_string(),
        ]);
        // A free line needs no formula; its ids are in the JSON output.
        if !free {
            rows.push(vec![
                format!("  {}: {}", line.logical_ids.join(", "), line.formula),
                String::new(),
                String::new(),
            ]);
        }
    }
    print_table(&["Resource", "Quantity", "Monthly Cost"], &rows);
    println!();
    print_line(format!(
        "Total (fixed): {} per month",
        estimate.total_monthly
    ));
    if !estimate.ranges.is_empty() {
        println!();
        print_line("Usage-based (not in the total):");
        for range in &estimate.ranges {
            print_line(format!(
                "  {} {} ({}): {} – {}",
                range.resource_type,
                range.usage,
                range.logical_ids.join(", "),
                range.low_monthly,
                range.high_monthly
            ));
            print_line(format!(
                "    {}; assuming {}",
                range.formula, range.assumption
            ));
        }
        print_line(format!(
            "Total with usage: {} – {} per month",
            estimate.low_monthly(),
            estimate.high_monthly()
        ));
    }
    if estimate.not_priced.is_empty() {
        println!();
        print_line("Not priced: none");
    } else {
        println!();
        print_line("Not priced:");
        for item in &estimate.not_priced {
            print_line(format!(
                "  {} ({}): {}",
                item.logical_id, item.resource_type, item.reason
            ));
        }
    }
}
