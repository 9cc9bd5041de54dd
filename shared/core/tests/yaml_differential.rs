//! The YAML reader against cfn-lint's own loader, on a few hundred layout variants of the corpus
//! (the long run is `cargo bench -p infra-agent-core --bench yaml_differential`).

#[path = "../benches/corpus/mod.rs"]
mod corpus;
#[path = "../benches/differential/mod.rs"]
mod differential;

/// Set to skip the comparison where cfn-lint is not installed; CI never sets it.
const SKIP: &str = "INFRA_AGENT_SKIP_CFN_LINT_DIFFERENTIAL";

#[test]
fn yaml_reader_reads_what_cfn_lint_reads_and_refuses_what_it_refuses() {
    let generator = differential::Generator::in_repository();
    if !generator.python.exists() {
        if std::env::var_os(SKIP).is_some() {
            println!("skipped: {SKIP} is set");
            return;
        }
        panic!(
            "{} is missing: the differential test needs cfn-lint's Python (set {SKIP} to skip it)",
            generator.python.display()
        );
    }
    let files = corpus::templates_under(&corpus::corpus_dir()).unwrap_or_else(|e| panic!("{e}"));
    let tally = generator
        .run(
            &files,
            400,
            &std::env::var("YAML_VARIANTS_SEED").unwrap_or_else(|_| "unit".into()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let report = differential::report(&tally);
    println!("{report}");
    assert_eq!(tally.disagreement_count(), 0, "{report}");
    // The variants must exercise both sides: reads and refusals.
    assert!(tally.same_value > 100 && tally.both_refuse > 20, "{report}");
}
