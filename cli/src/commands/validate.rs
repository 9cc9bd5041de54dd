//! `validate`: the pipeline's validation, run locally on template files.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use shared::environment::EnvironmentConfig;
use shared::naming::Env;
use shared::pipeline::change_set::environment_parameters;
use shared::validation::{validate_template, ValidationContext, ValidationReport};

use crate::output::{print_json, Format};

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Template files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Validate as deployed to this environment (its parameters resolved).
    #[arg(long, value_parser = super::parse_env)]
    env: Option<Env>,
}

#[derive(Serialize)]
struct Several<'a> {
    passed: bool,
    templates: Vec<&'a ValidationReport>,
}

pub fn run(args: &ValidateArgs, format: Format) -> anyhow::Result<ExitCode> {
    let mut ctx = ValidationContext {
        env: args.env,
        ..Default::default()
    };
    if let Some(env) = args.env {
        let config = EnvironmentConfig::builtin(env)?;
        // IaC_Version is known only at deploy time; any valid version stands in for it here.
        ctx.parameters = environment_parameters(&config, env!("CARGO_PKG_VERSION"));
    }
    let reports: Vec<ValidationReport> = args
        .files
        .iter()
        .map(|path| {
            let source = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(body) => validate_template(&source, &body, &ctx),
                Err(e) => {
                    ValidationReport::failed_closed(&source, &format!("cannot read file: {e}"))
                }
            }
        })
        .collect();
    let passed = reports.iter().all(|r| r.passed);
    match (format, reports.as_slice()) {
        (Format::Json, [one]) => print_json(one)?,
        (Format::Json, many) => print_json(&Several {
            passed,
            templates: many.iter().collect(),
        })?,
        (Format::Table, _) => {
            for report in &reports {
                print_report(report);
            }
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &ValidationReport) {
    if report.passed {
        println!("{}: ✓ Template validation passed", report.source);
    } else {
        println!("{}: ✗ Template validation failed", report.source);
    }
    for finding in &report.findings {
        println!(
            "{} [{}] {}{}{}: {}",
            match finding.severity {
                shared::validation::Severity::Error => "ERROR",
                shared::validation::Severity::Warning => "WARNING",
            },
            finding.control.as_deref().unwrap_or(&finding.rule),
            finding.resource.as_deref().unwrap_or("template"),
            finding
                .resource_type
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
            finding
                .line
                .map(|l| format!(" line {l}"))
                .unwrap_or_default(),
            finding.message
        );
    }
    for suppressed in &report.suppressed {
        println!(
            "SUPPRESSED [{}] {}: {}",
            suppressed.control.as_deref().unwrap_or(&suppressed.rule),
            suppressed.resource.as_deref().unwrap_or("template"),
            suppressed.message
        );
    }
}
