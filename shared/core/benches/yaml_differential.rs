//! Our YAML reader against cfn-lint's loader over layout variants of the corpus: prints how many
//! variants both read to the same value, both refuse, differ by design, and disagree.
//!
//! `cargo bench -p infra-agent-core --bench yaml_differential`. Environment: `YAML_VARIANTS`
//! (default 100,000) variants; `YAML_VARIANTS_SEED` (default 1). Needs `.venv/bin/python` with
//! cfn-lint and the corpus; exits non-zero on any disagreement, writing the first ones to
//! `target/yaml-differential/`.

mod corpus;
mod differential;

use std::time::Instant;

fn main() {
    let count: usize = std::env::var("YAML_VARIANTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let seed = std::env::var("YAML_VARIANTS_SEED").unwrap_or_else(|_| "1".into());
    let files = corpus::templates_under(&corpus::corpus_dir()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    let generator = differential::Generator::in_repository();
    let start = Instant::now();
    let tally = generator.run(&files, count, &seed).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    println!(
        "seed {seed}, {} corpus files, {:.0} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    print!("{}", differential::report(&tally));
    if tally.disagreement_count() > 0 {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/yaml-differential");
        if std::fs::create_dir_all(&dir).is_ok() {
            for (variant, outcome) in &tally.examples {
                let _ = std::fs::write(
                    dir.join(format!("variant-{}.yaml", variant.n)),
                    format!("# {outcome:?}\n# {}\n{}", variant.base, variant.body),
                );
            }
            println!("the first disagreements are in {}", dir.display());
        }
        std::process::exit(1);
    }
}
