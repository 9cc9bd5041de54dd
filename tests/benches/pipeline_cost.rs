//! What one deployment costs the pipeline itself, counted, not guessed: a deployment of the VPC
//! template runs through the deploy machine on the local backend (start, approve by link, execute,
//! record) while the emulator records every request it receives; then the execution's history
//! gives the state transitions and Lambda invocations, the recording gives every DynamoDB, S3 and
//! SNS request (DynamoDB write units from each request's size), and list prices (us-east-1,
//! x86_64) turn them into dollars. Requests only this bench makes (polling the execution, reading
//! the approval inbox) are left out.
//!
//!     scripts/local-backend start && set -a && . .local/env && set +a
//!     cargo bench -p infra-agent-tests --bench pipeline_cost

use std::collections::BTreeMap;
use std::time::Duration;

use infra_agent_core::naming::Env;
use infra_agent_tests::{inbox, unique_stack, vpc_template, Backend};

/// us-east-1 list prices.
const SFN_PER_TRANSITION: f64 = 0.025 / 1_000.0;
const LAMBDA_PER_REQUEST: f64 = 0.20 / 1_000_000.0;
const LAMBDA_PER_GB_SECOND: f64 = 0.000_016_666_7;
const DYNAMODB_PER_WRITE_UNIT: f64 = 0.625 / 1_000_000.0;
const DYNAMODB_PER_READ_UNIT: f64 = 0.125 / 1_000_000.0;
const S3_PER_PUT: f64 = 0.005 / 1_000.0;
const S3_PER_GET: f64 = 0.0004 / 1_000.0;
const SNS_PER_PUBLISH: f64 = 0.50 / 1_000_000.0;

/// Memory of each function in `infra/pipeline.yaml`, in MB.
fn memory_mb(function: &str) -> f64 {
    let template = infra_agent_core::template::Template::parse(
        "infra/pipeline.yaml",
        infra_agent_core::install::PIPELINE_TEMPLATE,
    )
    .expect("the pipeline template parses");
    template
        .resources()
        .into_iter()
        .flatten()
        .find(|(_, r)| r["Properties"]["FunctionName"] == function)
        .and_then(|(_, r)| r["Properties"]["MemorySize"].as_f64())
        .unwrap_or(128.0)
}

async fn moto(path: &str) -> String {
    let base =
        std::env::var("INFRA_AGENT_MOTO_URL").expect("INFRA_AGENT_MOTO_URL: source .local/env");
    let page = if path.contains("download") {
        inbox::get(&format!("{base}/moto-api/recorder/{path}")).await
    } else {
        inbox::post_form(&format!("{base}/moto-api/recorder/{path}"), &[]).await
    };
    page.expect("the emulator's recorder answers").body
}

/// The service and operation of a recorded request, or `None` for what only this bench asks.
fn operation(entry: &serde_json::Value) -> Option<(String, String, usize)> {
    let headers = &entry["headers"];
    let header = |name: &str| {
        headers
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    let raw = entry["body"].as_str().unwrap_or_default();
    let body = if entry["body_encoded"] == true {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        raw.to_string()
    };
    let size = body.len();
    if let Some(target) = header("X-Amz-Target") {
        let (service, op) = target.split_once('.')?;
        let service = match service {
            s if s.starts_with("DynamoDB") => "dynamodb",
            "AWSStepFunctions" => "states",
            "secretsmanager" => "secretsmanager",
            _ => return None,
        };
        if service == "states" && matches!(op, "DescribeExecution" | "GetExecutionHistory") {
            return None;
        }
        return Some((service.into(), op.into(), size));
    }
    if let Some(action) = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
    {
        let service = if body.contains("TopicArn") {
            "sns"
        } else {
            "query"
        };
        return (service != "query" || action == "Publish")
            .then(|| (service.into(), action.into(), size));
    }
    let url = entry["url"].as_str().unwrap_or_default();
    if url.contains("/moto-api/") || url.contains("/123456789012/") {
        return None; // the recorder itself, SQS
    }
    let method = entry["method"].as_str().unwrap_or_default();
    let op = match method {
        "PUT" => "PutObject",
        "GET" => "GetObject",
        "HEAD" => "HeadObject",
        _ => return None,
    };
    Some(("s3".into(), op.into(), size))
}

#[tokio::main]
async fn main() {
    let backend = Backend::connect().await;
    let stack = unique_stack("cost");
    let template = vpc_template(&BTreeMap::new());

    moto("reset-recording").await;
    moto("start-recording").await;
    let started = backend.start(&stack, &template, "1.0.0").await;
    let message = inbox::find_approval_message(
        &backend.sqs,
        &backend.queue_url,
        &started.deployment_id,
        Duration::from_secs(60),
    )
    .await
    .expect("the approval message");
    // The link's page and its form: two invocations of the link function, timed end to end.
    let mut link_calls = Vec::new();
    let clock = std::time::Instant::now();
    inbox::get(&message.link).await.expect("open the link");
    link_calls.push(clock.elapsed().as_secs_f64());
    let clock = std::time::Instant::now();
    inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Ada")],
    )
    .await
    .expect("approve");
    link_calls.push(clock.elapsed().as_secs_f64());
    let ended = backend.wait_for_end(&started).await;
    moto("stop-recording").await;
    let recording = moto("download-recording").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");

    let history = backend
        .sfn
        .get_execution_history()
        .execution_arn(&started.execution_arn)
        .max_results(1000)
        .send()
        .await
        .expect("execution history");
    let events = history.events();
    let transitions = events
        .iter()
        .filter(|e| e.r#type().as_str().ends_with("StateEntered"))
        .count();
    // Each Lambda task: scheduled, then (for a direct invoke) succeeded, or (for the approval's
    // waitForTaskToken invoke) submitted when the function returned.
    let mut invocations: Vec<(String, f64)> = Vec::new();
    let mut pending: Option<(String, f64)> = None;
    for e in events {
        let at = e.timestamp().as_secs_f64();
        let resource = e
            .lambda_function_scheduled_event_details()
            .map(|d| d.resource().to_string())
            .or_else(|| {
                e.task_scheduled_event_details()
                    .filter(|d| d.resource_type() == "lambda")
                    .map(|d| d.parameters().to_string())
            });
        if let Some(resource) = resource {
            let function = resource
                .split("function:")
                .nth(1)
                .and_then(|rest| rest.split(['"', ':']).next())
                .unwrap_or_default()
                .to_string();
            pending = Some((function, at));
            continue;
        }
        let returned = matches!(
            e.r#type().as_str(),
            "LambdaFunctionSucceeded" | "LambdaFunctionFailed" | "TaskSubmitted" | "TaskFailed"
        );
        if returned {
            if let Some((function, scheduled)) = pending.take() {
                invocations.push((function, at - scheduled));
            }
        }
    }
    for seconds in link_calls {
        invocations.push(("infra-agent-approval-link".into(), seconds));
    }

    let mut requests: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).expect("a recorded request");
        if let Some((service, op, size)) = operation(&entry) {
            let slot = requests.entry((service, op)).or_default();
            slot.0 += 1;
            slot.1 += size.div_ceil(1024).max(1);
        }
    }

    println!(
        "One deployment of a {}-line VPC template in {}, approved by link:",
        template.lines().count(),
        Env::Dev
    );
    println!();
    let sfn = transitions as f64 * SFN_PER_TRANSITION;
    println!("  Step Functions   {transitions:>5} state transitions                    ${sfn:.6}");
    let gb_seconds: f64 = invocations
        .iter()
        .map(|(f, seconds)| memory_mb(f) / 1024.0 * seconds.max(0.001))
        .sum();
    let lambda = invocations.len() as f64 * LAMBDA_PER_REQUEST + gb_seconds * LAMBDA_PER_GB_SECOND;
    println!(
        "  Lambda           {:>5} invocations, {gb_seconds:.3} GB-s (emulator timings)   ${lambda:.6}",
        invocations.len()
    );
    let mut total = sfn + lambda;
    for ((service, op), (count, units)) in &requests {
        let cost = match (service.as_str(), op.as_str()) {
            (
                "dynamodb",
                "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem",
            ) => *units as f64 * DYNAMODB_PER_WRITE_UNIT,
            ("dynamodb", _) => *count as f64 * DYNAMODB_PER_READ_UNIT,
            ("s3", "PutObject") => *count as f64 * S3_PER_PUT,
            ("s3", _) => *count as f64 * S3_PER_GET,
            ("sns", _) => *count as f64 * SNS_PER_PUBLISH,
            _ => 0.0,
        };
        total += cost;
        println!("  {service:<16} {count:>5} {op:<28} ({units} KB)    ${cost:.6}");
    }
    println!();
    println!(
        "  total per deployment: ${total:.5} (${:.2} per 1,000 deployments)",
        total * 1000.0
    );
    println!(
        "  not counted: CloudWatch Logs ingestion, KMS requests (bucket keys), e-mail delivery,"
    );
    println!("  and the minutes a stack's poll loop adds on AWS (2 transitions and 1 invocation per poll)");
}
