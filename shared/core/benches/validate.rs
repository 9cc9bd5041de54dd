//! Validation speed: in-process time per template over the public corpus and a ~700-line
//! compliant template, and whole-process `infra-agent validate` against `cfn-lint`. Prints figures.
//!
//! `cargo bench -p infra-agent-core --bench validate`; `BENCH_PROCESS_SAMPLE=N` sets how many
//! corpus files the whole-process comparison runs on (cfn-lint takes seconds each).

mod corpus;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use infra_agent_core::template::Template;
use infra_agent_core::validation::policy::Policy;
use infra_agent_core::validation::{validate_template, ValidationContext};

const RUNS_PER_TEMPLATE: usize = 3;
const RUNS_LARGE: usize = 50;

fn main() {
    // The repository's root: this crate is shared/core.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = corpus::corpus_dir();
    let ctx = ValidationContext::default();
    let policy = match Policy::shipped() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("the shipped policy does not load: {e}");
            std::process::exit(1);
        }
    };

    let files = corpus::templates_under(&corpus).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    println!(
        "corpus: {} templates under {}",
        files.len(),
        corpus.display()
    );
    let mut whole = Vec::new();
    let mut guard = Vec::new();
    for file in &files {
        let Ok(body) = std::fs::read_to_string(file) else {
            continue;
        };
        let name = file.display().to_string();
        whole.push(median(RUNS_PER_TEMPLATE, || {
            validate_template(&name, &body, &ctx);
        }));
        if let Ok(template) = Template::parse(&name, &body) {
            guard.push(median(RUNS_PER_TEMPLATE, || {
                let _ = policy.evaluate(&template.value);
            }));
        }
    }
    print_percentiles("corpus, validate_template (whole)", &mut whole);
    print_percentiles("corpus, guard policy only", &mut guard);

    let large = synthetic_template();
    let lines = large.lines().count();
    let report = validate_template("synthetic.yaml", &large, &ctx);
    println!(
        "synthetic template: {lines} lines, {} resources, passed: {}, findings: {}",
        large.matches("\n    Type: ").count(),
        report.passed,
        report.findings.len()
    );
    for f in report.findings.iter().take(5) {
        println!("  finding: {} {:?} {}", f.rule, f.resource, f.message);
    }
    let mut large_times: Vec<Duration> = (0..RUNS_LARGE)
        .map(|_| {
            time(|| {
                validate_template("synthetic.yaml", &large, &ctx);
            })
        })
        .collect();
    print_percentiles(
        &format!("{lines}-line template, validate_template"),
        &mut large_times,
    );
    if let Ok(template) = Template::parse("synthetic.yaml", &large) {
        let mut parse: Vec<Duration> = (0..RUNS_LARGE)
            .map(|_| {
                time(|| {
                    let _ = Template::parse("synthetic.yaml", &large);
                })
            })
            .collect();
        print_percentiles(&format!("{lines}-line template, parse only"), &mut parse);
        let mut guard: Vec<Duration> = (0..RUNS_LARGE)
            .map(|_| {
                time(|| {
                    let _ = policy.evaluate(&template.value);
                })
            })
            .collect();
        print_percentiles(&format!("{lines}-line template, guard only"), &mut guard);
        for source in infra_agent_core::validation::policy::RULE_FILES {
            let Ok(one) = Policy::new(&[source]) else {
                continue;
            };
            let mut t: Vec<Duration> = (0..RUNS_LARGE)
                .map(|_| {
                    time(|| {
                        let _ = one.evaluate(&template.value);
                    })
                })
                .collect();
            print_percentiles(
                &format!("{lines}-line template, {} alone", source.file),
                &mut t,
            );
        }
        let tiny = serde_json::json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}});
        let mut t: Vec<Duration> = (0..RUNS_LARGE)
            .map(|_| {
                time(|| {
                    let _ = policy.evaluate(&tiny);
                })
            })
            .collect();
        print_percentiles("one-resource template, guard only", &mut t);
    }

    compare_processes(&root, &files, &large);
    resource_schema_figures(&files);
}

/// Whole processes on the same files: our release binary against cfn-lint.
fn compare_processes(root: &Path, corpus: &[PathBuf], large: &str) {
    let ours = root.join("target/release/infra-agent");
    let cfn_lint = root.join(".venv/bin/cfn-lint");
    let sample: usize = std::env::var("BENCH_PROCESS_SAMPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    if sample == 0 {
        println!("whole process: skipped (BENCH_PROCESS_SAMPLE=0)");
        return;
    }
    if !ours.exists() {
        println!(
            "whole process: skipped, {} is absent (cargo build --release -p infra-agent)",
            ours.display()
        );
        return;
    }
    let synthetic =
        std::env::temp_dir().join(format!("infra-agent-bench-{}.yaml", std::process::id()));
    if std::fs::write(&synthetic, large).is_err() {
        println!(
            "whole process: skipped, cannot write {}",
            synthetic.display()
        );
        return;
    }
    // Spread the sample over the corpus rather than taking one service's folder.
    let step = (corpus.len() / sample.max(1)).max(1);
    let mut files: Vec<&Path> = corpus
        .iter()
        .step_by(step)
        .take(sample)
        .map(PathBuf::as_path)
        .collect();
    files.push(&synthetic);
    let (mut ours_total, mut theirs_total) = (Duration::ZERO, Duration::ZERO);
    let have_cfn_lint = cfn_lint.exists();
    if !have_cfn_lint {
        println!("cfn-lint: skipped, {} is absent", cfn_lint.display());
    }
    println!("whole process on {} files (ours / cfn-lint):", files.len());
    for file in &files {
        let a = run_process(Command::new(&ours).arg("validate").arg(file));
        ours_total += a;
        let b = if have_cfn_lint {
            let b = run_process(Command::new(&cfn_lint).arg(file));
            theirs_total += b;
            format!("{:>9.1} ms", ms(b))
        } else {
            "-".into()
        };
        println!("  {:>8.1} ms / {b}  {}", ms(a), file.display());
    }
    let n = files.len() as f64;
    println!(
        "whole process mean: ours {:.1} ms{}",
        ms(ours_total) / n,
        if have_cfn_lint {
            format!(
                ", cfn-lint {:.1} ms, ratio {:.0}x",
                ms(theirs_total) / n,
                ms(theirs_total) / ms(ours_total).max(f64::EPSILON)
            )
        } else {
            String::new()
        }
    );
    let _ = std::fs::remove_file(&synthetic);
}

fn run_process(command: &mut Command) -> Duration {
    let start = Instant::now();
    let _ = command.stdout(Stdio::null()).stderr(Stdio::null()).status();
    start.elapsed()
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| time(&mut f)).collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_percentiles(label: &str, times: &mut [Duration]) {
    if times.is_empty() {
        println!("{label}: no samples");
        return;
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0))
    );
}

/// A compliant VPC stack grown to ~700 lines: subnets, route tables and HTTPS-only security
/// groups, every taggable resource carrying the four mandatory tags.
fn synthetic_template() -> String {
    const TAGS: &str = "      Tags:
        - {Key: Environment, Value: !Ref Environment}
        - {Key: Owner, Value: platform}
        - {Key: SecurityLevel, Value: internal}
        - {Key: IaC_Version, Value: '1.0.0'}
";
    let mut t = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Environment:
    Type: String
    Default: dev
    AllowedValues: [dev, tst, prd]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
",
    );
    t.push_str(TAGS);
    t.push_str(
        "  FlowLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 365
",
    );
    t.push_str(TAGS);
    t.push_str(
        "  FlowLogRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: vpc-flow-logs.amazonaws.com}
            Action: sts:AssumeRole
",
    );
    t.push_str(TAGS);
    t.push_str(
        "  FlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: !Ref Vpc
      ResourceType: VPC
      TrafficType: ALL
      LogGroupName: !Ref FlowLogGroup
      DeliverLogsPermissionArn: !GetAtt FlowLogRole.Arn
",
    );
    t.push_str(TAGS);
    for i in 0..18 {
        t.push_str(&format!(
            "  Subnet{i}:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [{i}, !Cidr [!GetAtt Vpc.CidrBlock, 16, 8]]
      AvailabilityZone: !Select [0, !GetAZs '']
"
        ));
        t.push_str(TAGS);
        t.push_str(&format!(
            "  RouteTable{i}:
    Type: AWS::EC2::RouteTable
    Properties:
      VpcId: !Ref Vpc
"
        ));
        t.push_str(TAGS);
        t.push_str(&format!(
            "  Association{i}:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties:
      SubnetId: !Ref Subnet{i}
      RouteTableId: !Ref RouteTable{i}
  Group{i}:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub 'HTTPS for tier {i} in ${{Environment}}'
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}}
"
        ));
        t.push_str(TAGS);
    }
    t
}

/// The resource-schema checks on their own: embedded data size, one parse of it (what a cold
/// Lambda pays once), and the per-template cost of `schema::check` over the corpus.
fn resource_schema_figures(corpus: &[PathBuf]) {
    use infra_agent_core::validation::schema;
    let mut loads: Vec<Duration> = (0..RUNS_PER_TEMPLATE * 3)
        .map(|_| {
            time(|| {
                let _ = schema::Registry::embedded();
            })
        })
        .collect();
    match schema::registry() {
        Ok(registry) => println!(
            "resource schemas: {} types from {} ({})",
            registry.type_count(),
            registry.source,
            registry.generated
        ),
        Err(e) => {
            println!("resource schemas: do not load: {e}");
            return;
        }
    }
    print_percentiles("resource schemas, load once", &mut loads);
    let mut checks = Vec::new();
    let mut flagged = 0;
    for file in corpus {
        let Ok(body) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(template) = Template::parse(&file.display().to_string(), &body) else {
            continue;
        };
        flagged += usize::from(!schema::check(&template).is_empty());
        checks.push(median(RUNS_PER_TEMPLATE, || {
            let _ = schema::check(&template);
        }));
    }
    println!("resource schemas: {flagged} corpus templates with schema findings");
    print_percentiles("corpus, resource-schema checks only", &mut checks);
}
