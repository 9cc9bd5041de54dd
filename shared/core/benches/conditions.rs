//! The cost of condition-aware checks: validation time on the corpus templates that declare the
//! most Conditions, per template, whole `validate_template` and the structural rules alone.
//!
//! `cargo bench -p infra-agent-core --bench conditions`; `BENCH_CONDITION_TEMPLATES=N` (default 10).

mod corpus;

use std::time::{Duration, Instant};

use infra_agent_core::template::Template;
use infra_agent_core::validation::{structure, validate_template, ValidationContext};

const RUNS: usize = 21;

fn main() {
    let files = corpus::templates_under(&corpus::corpus_dir()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    let wanted: usize = std::env::var("BENCH_CONDITION_TEMPLATES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut heavy: Vec<(usize, String, String)> = files
        .iter()
        .filter_map(|file| {
            let body = std::fs::read_to_string(file).ok()?;
            let template = Template::parse(&file.display().to_string(), &body).ok()?;
            let count = template
                .value
                .get("Conditions")
                .and_then(|c| c.as_object())
                .map_or(0, |c| c.len());
            Some((count, file.display().to_string(), body))
        })
        .collect();
    heavy.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    heavy.truncate(wanted);
    let ctx = ValidationContext::default();
    let (mut whole_total, mut structure_total) = (Duration::ZERO, Duration::ZERO);
    println!(
        "{:>5}  {:>10}  {:>10}  template",
        "conds", "whole ms", "struct ms"
    );
    for (count, name, body) in &heavy {
        let whole = median(|| {
            validate_template(name, body, &ctx);
        });
        let Ok(template) = Template::parse(name, body) else {
            continue;
        };
        let structural = median(|| {
            structure::check(&template);
        });
        whole_total += whole;
        structure_total += structural;
        let short = name
            .rsplit("aws-cloudformation-templates/")
            .next()
            .unwrap_or(name);
        println!(
            "{count:>5}  {:>10.3}  {:>10.3}  {short}",
            ms(whole),
            ms(structural)
        );
    }
    println!(
        "total over {} templates: whole {:.3} ms, structural rules {:.3} ms",
        heavy.len(),
        ms(whole_total),
        ms(structure_total)
    );

    // The worst case the bound allows: every question over 12 two-valued parameters (4,096
    // assignments), each referrer asking a question of its own.
    let body = worst_case(12, 60);
    if let Ok(template) = Template::parse("worst-case.yaml", &body) {
        let findings = structure::check(&template).len();
        let structural = median(|| {
            structure::check(&template);
        });
        println!(
            "worst case (12 parameters, 60 referrers, {} lines): structural rules {:.3} ms, {findings} findings",
            body.lines().count(),
            ms(structural)
        );
    }
}

/// `parameters` free two-valued parameters, a condition per parameter and one over all of
/// them, and `referrers` resources each referring, under a condition of its own, to a resource
/// under the all-parameters condition.
fn worst_case(parameters: usize, referrers: usize) -> String {
    let mut t = String::from("Parameters:\n");
    for i in 0..parameters {
        t += &format!("  P{i}:\n    Type: String\n    AllowedValues: ['on', 'off']\n");
    }
    t += "Conditions:\n";
    for i in 0..parameters {
        t += &format!("  C{i}: !Equals [!Ref P{i}, 'on']\n");
    }
    let half = parameters / 2;
    let all = |range: std::ops::Range<usize>| {
        range
            .map(|i| format!("!Condition C{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t += &format!("  Low: !Or [{}]\n", all(0..half));
    t += &format!("  High: !Or [{}]\n", all(half..parameters));
    t += "  All: !And [!Condition Low, !Condition High]\n";
    t += "Resources:\n  Target:\n    Type: AWS::SNS::Topic\n    Condition: All\n";
    for r in 0..referrers {
        let (a, b) = (r % parameters, (r / parameters + r + 1) % parameters);
        t += &format!(
            "  Referrer{r}:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !If [C{a}, !If [C{b}, !GetAtt Target.TopicName, x], y]\n"
        );
    }
    t
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
