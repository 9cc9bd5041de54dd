//! What can be wrong with a catalog: each error names the file and the stack, parameter, output
//! or export at fault, so the fix is obvious from the message alone.

use std::fmt;

use crate::naming::{Env, StackKey};
use crate::template::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: stack '{stack}': template '{template}' must be a relative path inside the templates directory")]
    TemplatePath {
        file: String,
        stack: StackKey,
        template: String,
    },
    #[error("{file}: stack '{stack}': phase {phase} is not one of the {count} phases declared in `phases`")]
    UnknownPhase {
        file: String,
        stack: StackKey,
        phase: u32,
        count: usize,
    },
    #[error("{file}: stack '{stack}': wiring of parameter '{parameter}' is '{value}', expected \"<stack>.<output>\"")]
    WiringSyntax {
        file: String,
        stack: StackKey,
        parameter: String,
        value: String,
    },
    #[error("{file}: stack '{stack}': {place} names unknown stack '{unknown}'")]
    UnknownStack {
        file: String,
        stack: StackKey,
        /// `depends_on` or `wiring of parameter 'X'`.
        place: String,
        unknown: String,
    },
    #[error(transparent)]
    Template(#[from] ParseError),
    #[error("{file}: stack '{stack}' wires parameter '{parameter}', which its template does not declare (declared: {})", list(declared))]
    UnknownParameter {
        /// The downstream template.
        file: String,
        stack: StackKey,
        parameter: String,
        declared: Vec<String>,
    },
    #[error(transparent)]
    UnknownOutput(Box<UnknownOutput>),
    #[error("{file}: dependency cycle {}", Cycle(cycle))]
    Cycle { file: String, cycle: Vec<StackKey> },
    #[error("{file}: stack '{stack}' (phase {phase}) needs '{upstream}' of the later phase {upstream_phase}")]
    PhaseOrder {
        file: String,
        stack: StackKey,
        phase: u32,
        upstream: StackKey,
        upstream_phase: u32,
    },
    #[error(transparent)]
    DuplicateExport(Box<DuplicateExport>),
    #[error("{}", Unsupplied { env: *env, missing })]
    UnsuppliedParameters {
        env: Env,
        missing: Vec<UnsuppliedParameter>,
    },
}

/// Wiring that names an output the upstream template does not declare.
#[derive(Debug, thiserror::Error)]
#[error("{file}: stack '{stack}' wires parameter '{parameter}' from output '{output}' of '{upstream}', which that template does not declare (outputs: {})", list(outputs))]
pub struct UnknownOutput {
    /// The upstream template.
    pub file: String,
    pub stack: StackKey,
    pub parameter: String,
    pub upstream: StackKey,
    pub output: String,
    pub outputs: Vec<String>,
}

/// Two outputs that would register the same export name in one environment.
#[derive(Debug, thiserror::Error)]
#[error("export name '{export}' (in {env}) is declared twice: output '{first_output}' of '{first_stack}' ({first_file}) and output '{second_output}' of '{second_stack}' ({second_file})")]
pub struct DuplicateExport {
    pub env: Env,
    pub export: String,
    pub first_stack: StackKey,
    pub first_output: String,
    pub first_file: String,
    pub second_stack: StackKey,
    pub second_output: String,
    pub second_file: String,
}

/// A required template parameter (no `Default`) that neither wiring, the environment nor the
/// pipeline supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsuppliedParameter {
    pub stack: StackKey,
    pub parameter: String,
    pub file: String,
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `a → b → a`, read as "a needs b, b needs a".
struct Cycle<'a>(&'a [StackKey]);

impl fmt::Display for Cycle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(StackKey::as_str).collect();
        write!(f, "{} (each needs the next)", names.join(" → "))
    }
}

struct Unsupplied<'a> {
    env: Env,
    missing: &'a [UnsuppliedParameter],
}

impl fmt::Display for Unsupplied<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in {}, nobody supplies these required parameters (wire them in the catalog, add them to infra/environments/{}.toml, or give them a Default):",
            self.env, self.env
        )?;
        for m in self.missing {
            write!(
                f,
                "\n  stack '{}' ({}): parameter '{}'",
                m.stack, m.file, m.parameter
            )?;
        }
        Ok(())
    }
}
