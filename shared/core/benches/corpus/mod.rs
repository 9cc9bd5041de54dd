//! The public template corpus the benches and the corpus tests read (`../shared/corpus/`, beside
//! the repository): every YAML or JSON template under it, in a stable order, or an error.

use std::path::{Path, PathBuf};

/// Where the corpus is checked out: beside the repository, which holds this crate at shared/core.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/aws-cloudformation-templates")
}

/// Every template file under `dir`, sorted. A directory that is missing or cannot be read, or that
/// holds no template at all, is an error: a run over nothing must not pass for a run over the
/// corpus.
pub fn templates_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read the corpus directory {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json" | "template"))
            {
                found.push(path);
            }
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no templates under {}: check out the corpus (see ../shared/corpus/README.md)",
            dir.display()
        ));
    }
    found.sort();
    Ok(found)
}
