//! The public template corpus the benches read (`../shared/corpus/`, beside the repository):
//! every YAML or JSON template under it, in a stable order.

use std::path::{Path, PathBuf};

/// Every template file under `dir`, sorted.
pub fn templates_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
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
    found.sort();
    found
}
