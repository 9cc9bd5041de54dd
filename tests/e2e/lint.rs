//! The project's own state machines and templates pass the standard linters.

use infra_agent_tests::venv_tool;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn state_machines_pass_statelint() {
    for machine in infra_agent_core::registry::StateMachine::ALL {
        let name = machine.name();
        let rendered = machine.render("us-east-1", "123456789012");
        let path = std::env::temp_dir().join(format!("{name}-{}.asl.json", std::process::id()));
        std::fs::write(&path, rendered).unwrap();
        let out = std::process::Command::new(venv_tool("statelint"))
            .arg(&path)
            .output()
            .expect("run statelint from .venv (scripts/local-backend start installs it)");
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "statelint of {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn stack_templates_pass_cfn_lint_and_our_validation() {
    let dir = root().join("infra/stacks");
    let mut templates: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    templates.sort();
    assert!(!templates.is_empty());
    assert_cfn_lint_passes(&templates);
    for path in &templates {
        let body = std::fs::read_to_string(path).unwrap();
        for env in infra_agent_core::naming::Env::ALL {
            let config = infra_agent_core::environment::EnvironmentConfig::builtin(env).unwrap();
            let parameters =
                infra_agent_core::environment::environment_parameters(&config, "1.0.0");
            let ctx = infra_agent_core::validation::ValidationContext {
                env: Some(env),
                parameters,
            };
            let report = infra_agent_core::validation::validate_template(
                &path.display().to_string(),
                &body,
                &ctx,
            );
            assert!(
                report.passed,
                "{} in {env}: {:?}",
                path.display(),
                report.findings
            );
        }
    }
}

/// The pipeline's own templates: no cfn-lint error or warning (cfn-lint exits non-zero on
/// either). Our own NIST rules on them are checked in the pipeline crate's template tests.
#[test]
fn the_pipelines_own_templates_pass_cfn_lint_without_warnings() {
    assert_cfn_lint_passes(&[
        root().join("infra/pipeline.yaml"),
        root().join("infra/bootstrap.yaml"),
    ]);
}

/// cfn-lint from .venv reports no error and no warning (it exits non-zero on either).
fn assert_cfn_lint_passes(templates: &[std::path::PathBuf]) {
    let out = std::process::Command::new(venv_tool("cfn-lint"))
        .args(templates)
        .output()
        .expect("run cfn-lint from .venv");
    assert!(
        out.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
