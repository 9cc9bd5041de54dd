//! `cost`: the monthly estimate of a stack or template in one environment, from the offline price
//! book, with formulas, usage ranges and what was not priced. Needs no AWS access.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use shared::cost::{estimate_with_builtin_prices, CostEstimate, Usd};
use shared::environment::EnvironmentConfig;
use shared::naming::{Env, StackKey};
use shared::pipeline::change_set::environment_parameters;
use shared::template::Template;
use shared::validation::ValidationContext;

use crate::output::{print_json, print_table, Format};

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

pub fn run(args: &CostArgs, format: Format) -> anyhow::Result<ExitCode> {
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
    match format {
        Format::Json => print_json(&estimate)?,
        Format::Table => print_estimate(&source, args.env, &estimate),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_estimate(source: &str, env: Env, estimate: &CostEstimate) {
    println!(
        "Cost estimate of {source} in {env} ({}), list prices as of {}\n",
        estimate.region, estimate.prices_as_of
    );
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
    println!("\nTotal (fixed): {} per month", estimate.total_monthly);
    if !estimate.ranges.is_empty() {
        println!("\nUsage-based (not in the total):");
        for range in &estimate.ranges {
            println!(
                "  {} {} ({}): {} – {}",
                range.resource_type,
                range.usage,
                range.logical_ids.join(", "),
                range.low_monthly,
                range.high_monthly
            );
            println!("    {}; assuming {}", range.formula, range.assumption);
        }
        println!(
            "Total with usage: {} – {} per month",
            estimate.low_monthly(),
            estimate.high_monthly()
        );
    }
    if estimate.not_priced.is_empty() {
        println!("\nNot priced: none");
    } else {
        println!("\nNot priced:");
        for item in &estimate.not_priced {
            println!(
                "  {} ({}): {}",
                item.logical_id, item.resource_type, item.reason
            );
        }
    }
}
