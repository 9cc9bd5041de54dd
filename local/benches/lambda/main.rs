//! Cold starts of the packaged Lambda functions: each `bootstrap` that `scripts/package` built is
//! started as a process against a Runtime API served here, and handed an event its step really
//! processes, against a local emulator. Prints, per function: init (spawn to first poll), the first
//! response, peak RSS and the zip's size, beside the targets.
//!
//! `scripts/package && cargo bench -p infra-agent-local --bench lambda`; `LAMBDA_BENCH_RUNS=N`
//! sets how many deployments (cold starts per event) are measured (default 3).

mod chain;
mod emulator;
mod runtime_api;
mod sandbox;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use chain::{Chain, STEPS};

const RUNS: usize = 3;
/// Targets per function: init, peak RSS and zip size.
const INIT_TARGET: Duration = Duration::from_millis(30);
const RSS_TARGET_MB: f64 = 40.0;
const ZIP_TARGET_MB: f64 = 8.0;

/// What `scripts/package` wrote to `packaged.json`: the architecture, and each function's zip size.
struct Packaged {
    architecture: String,
    zip_bytes: BTreeMap<String, u64>,
}

impl Packaged {
    fn read(path: &Path) -> anyhow::Result<Packaged> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read {}; run scripts/package first", path.display()))?;
        let manifest: Value =
            serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
        let architecture = manifest["architecture"]
            .as_str()
            .with_context(|| format!("{} names no architecture", path.display()))?
            .to_string();
        let zip_bytes = manifest["functions"]
            .as_object()
            .with_context(|| format!("{} lists no functions", path.display()))?
            .iter()
            .map(|(name, f)| (name.clone(), f["bytes"].as_u64().unwrap_or_default()))
            .collect();
        Ok(Packaged {
            architecture,
            zip_bytes,
        })
    }
}

/// The figures of one step over every run.
#[derive(Default)]
struct Figures {
    init: Vec<Duration>,
    first_response: Vec<Duration>,
    peak_rss: Vec<u64>,
    /// Set when the step ran in-process, not as a packaged function.
    in_process: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambda bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let lambda_dir = target.join("lambda");
    let packaged = Packaged::read(&lambda_dir.join("packaged.json"))?;
    // Lambda's names for the architectures.
    let host = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    anyhow::ensure!(
        packaged.architecture == host,
        "the functions are packaged for {}, this machine runs {host}",
        packaged.architecture
    );
    let runs: usize = match std::env::var("LAMBDA_BENCH_RUNS") {
        Ok(n) => n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .context("LAMBDA_BENCH_RUNS is not a positive number")?,
        Err(_) => RUNS,
    };
    // Every process's output, from this run only.
    let logs = lambda_dir.join("bench");
    if logs.exists() {
        std::fs::remove_dir_all(&logs)?;
    }
    std::fs::create_dir_all(&logs)?;

    let emulator = emulator::Emulator::start(&root, &logs.join("emulator.log")).await?;
    let names: Vec<String> = packaged.zip_bytes.keys().cloned().collect();
    let chain = Chain::prepare(&root, &emulator, &lambda_dir, &names, logs).await?;
    println!(
        "lambda bench: {runs} cold start(s) per event, {} packages in {}, emulator on {}",
        packaged.architecture,
        lambda_dir.display(),
        emulator.url()
    );

    let mut figures: Vec<Figures> = STEPS.iter().map(|_| Figures::default()).collect();
    for run in 1..=runs {
        for (f, sample) in figures.iter_mut().zip(chain.deploy(run).await?) {
            match sample {
                Some(s) => {
                    f.init.push(s.init);
                    f.first_response.push(s.first_response);
                    f.peak_rss.extend(s.peak_rss);
                }
                None => f.in_process = true,
            }
        }
    }
    print_table(&figures, &packaged);
    Ok(())
}

fn print_table(figures: &[Figures], packaged: &Packaged) {
    println!(
        "{:<32} {:<26} {:>14} {:>18} {:>12} {:>8}",
        "function", "event", "init ms", "first resp. ms", "peak RSS MB", "zip MB"
    );
    let mut over = Vec::new();
    for (step, f) in STEPS.iter().zip(figures) {
        let name = step.function.name();
        let zip = packaged.zip_bytes.get(&name).map(|b| *b as f64 / 1e6);
        if f.in_process {
            println!("{name:<32} {:<26} not packaged: ran in-process", step.event);
            continue;
        }
        let init = median(&f.init);
        let rss = f.peak_rss.iter().max().map(|b| *b as f64 / 1e6);
        let mark = |over_target: bool| if over_target { "!" } else { " " };
        // The median: one slow start on a shared machine says little about the package.
        let init_over = init > INIT_TARGET;
        let rss_over = rss.is_some_and(|r| r > RSS_TARGET_MB);
        let zip_over = zip.is_some_and(|z| z > ZIP_TARGET_MB);
        if init_over || rss_over || zip_over {
            over.push(format!("{name} ({})", step.event));
        }
        println!(
            "{name:<32} {:<26} {:>13}{} {:>18} {:>11}{} {:>7}{}",
            step.event,
            format!("{:.1} ({:.1})", ms(init), ms(max(&f.init))),
            mark(init_over),
            format!(
                "{:.1} ({:.1})",
                ms(median(&f.first_response)),
                ms(max(&f.first_response))
            ),
            rss.map_or("?".into(), |r| format!("{r:.1}")),
            mark(rss_over),
            zip.map_or("?".into(), |z| format!("{z:.2}")),
            mark(zip_over),
        );
    }
    println!(
        "times: median (max) over the runs; peak RSS: VmHWM after the first response, the largest \
         of the runs; MB: 10^6 bytes"
    );
    println!(
        "targets: init (median) < {} ms, peak RSS < {RSS_TARGET_MB} MB, zip < {ZIP_TARGET_MB} MB \
         per function",
        INIT_TARGET.as_millis()
    );
    let benched: Vec<String> = STEPS.iter().map(|s| s.function.name()).collect();
    for name in packaged.zip_bytes.keys().filter(|n| !benched.contains(n)) {
        println!("{name}: packaged, but the bench has no event for it");
    }
    if over.is_empty() {
        println!("every packaged function is within the targets");
    } else {
        println!("over a target (!): {}", over.join(", "));
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn max(times: &[Duration]) -> Duration {
    times.iter().max().copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
