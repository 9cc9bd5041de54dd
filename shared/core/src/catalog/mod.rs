//! The platform catalog (`infra/catalog.toml`): which stacks exist, in which phase, what each needs
//! and which upstream output feeds which parameter — checked against the templates when loaded.

mod error;
mod exports;
mod graph;
mod spec;
mod wiring;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

pub use error::{CatalogError, DuplicateExport, UnknownOutput, UnsuppliedParameter};
pub use wiring::{resolve_wiring, MissingUpstream, OutputsByStack, Wire};

use crate::environment::environment_parameters;
use crate::environment::EnvironmentConfig;
use crate::naming::{self, Env, StackKey};
use crate::template::{ParameterDecl, Template};

/// Where the catalog and the templates live, relative to the repository root.
pub const CATALOG_FILE: &str = "infra/catalog.toml";
pub const TEMPLATES_DIR: &str = "infra/stacks";

/// A loaded, checked catalog: every named stack, parameter and output exists, there is no cycle,
/// no dependency points to a later phase and no two stacks export the same name.
#[derive(Debug, Clone)]
pub struct Catalog {
    file: String,
    phases: Vec<String>,
    stacks: BTreeMap<StackKey, CatalogStack>,
    waves: Vec<Vec<StackKey>>,
}

/// One stack of the catalog with what its template declares.
#[derive(Debug, Clone)]
pub struct CatalogStack {
    pub key: StackKey,
    /// The template file (templates directory joined with the catalog's `template`).
    pub template: PathBuf,
    /// 1-based phase number.
    pub phase: u32,
    /// Explicit dependencies, as listed in `depends_on`.
    pub depends_on: BTreeSet<StackKey>,
    /// Wired parameters, by parameter name.
    pub wiring: Vec<Wire>,
    /// Why the local emulator cannot deploy this stack, when it cannot.
    pub skip_on_emulator: Option<String>,
    /// Post-deploy checks the catalog declares for the stack.
    pub checks: Vec<crate::deploy::checks::DeclaredCheck>,
    pub parameters: Vec<ParameterDecl>,
    pub outputs: Vec<String>,
    /// Explicit dependencies and wired upstreams together.
    needs: BTreeSet<StackKey>,
    exports: Vec<exports::Export>,
}

impl CatalogStack {
    /// Every stack this one needs deployed first, in key order.
    pub fn upstreams(&self) -> impl Iterator<Item = &StackKey> {
        self.needs.iter()
    }

    fn file(&self) -> String {
        self.template.display().to_string()
    }
}

impl Catalog {
    /// Reads the catalog file and the templates it names from `templates_dir`.
    pub fn load(catalog_file: &Path, templates_dir: &Path) -> Result<Catalog, CatalogError> {
        let file = catalog_file.display().to_string();
        let text = std::fs::read_to_string(catalog_file).map_err(|source| CatalogError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&file, &text, templates_dir, |path| {
            std::fs::read_to_string(path)
        })
    }

    /// Checks catalog text `text` (named `file` in errors), reading each template through
    /// `read_template` at `templates_dir/<template>`.
    pub fn parse(
        file: &str,
        text: &str,
        templates_dir: &Path,
        mut read_template: impl FnMut(&Path) -> io::Result<String>,
    ) -> Result<Catalog, CatalogError> {
        let spec: spec::CatalogFile = toml::from_str(text).map_err(|e| CatalogError::Syntax {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut stacks = BTreeMap::new();
        for (key, entry) in &spec.stacks {
            let stack = declare(file, &spec, key, entry, templates_dir)?;
            stacks.insert(key.clone(), stack);
        }
        for stack in stacks.values_mut() {
            let source = stack.file();
            let body = read_template(&stack.template).map_err(|source_err| CatalogError::Read {
                file: source.clone(),
                source: source_err,
            })?;
            let template = Template::parse(&source, &body)?;
            stack.parameters = template.parameters();
            stack.outputs = template
                .value
                .get("Outputs")
                .and_then(Value::as_object)
                .map(|outputs| outputs.keys().cloned().collect())
                .unwrap_or_default();
            stack.exports = exports::exports(&template);
        }
        check_wiring(&stacks)?;
        let needs: graph::Needs = stacks
            .iter()
            .map(|(key, stack)| (key.clone(), stack.needs.clone()))
            .collect();
        if let Some(cycle) = graph::find_cycle(&needs) {
            return Err(CatalogError::Cycle {
                file: file.to_string(),
                cycle,
            });
        }
        check_phases(file, &stacks)?;
        check_exports(&stacks)?;
        let phase_of = stacks.iter().map(|(k, s)| (k.clone(), s.phase)).collect();
        let waves = graph::waves(&needs, &phase_of);
        Ok(Catalog {
            file: file.to_string(),
            phases: spec.phases,
            stacks,
            waves,
        })
    }
}

impl Catalog {
    /// The catalog file this was loaded from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Every stack, in key order.
    pub fn stacks(&self) -> impl Iterator<Item = &CatalogStack> {
        self.stacks.values()
    }

    pub fn stack(&self, key: &StackKey) -> Option<&CatalogStack> {
        self.stacks.get(key)
    }

    /// The name of a 1-based phase number (`foundation`).
    pub fn phase_name(&self, phase: u32) -> Option<&str> {
        let index = usize::try_from(phase).ok()?.checked_sub(1)?;
        self.phases.get(index).map(String::as_str)
    }

    /// Deployment order: each wave needs only stacks of earlier waves, so the stacks of a wave can
    /// be deployed in parallel. Phases never share a wave; a wave is in key order.
    pub fn waves(&self) -> &[Vec<StackKey>] {
        &self.waves
    }

    /// Every stack `stack` needs deployed first (explicit and wired), in key order; empty for a
    /// stack that is not in the catalog.
    pub fn upstream(&self, stack: &StackKey) -> Vec<StackKey> {
        self.stacks
            .get(stack)
            .map(|s| s.upstreams().cloned().collect())
            .unwrap_or_default()
    }

    /// The wiring of `stack`'s parameters, by parameter name; empty for a stack that is not in
    /// the catalog.
    pub fn wiring_for(&self, stack: &StackKey) -> &[Wire] {
        self.stacks
            .get(stack)
            .map(|s| s.wiring.as_slice())
            .unwrap_or_default()
    }

    /// Checks that in `config`'s environment every required template parameter is supplied: by
    /// wiring, by the environment's `parameters`, or by the pipeline (`Environment`, `Owner`,
    /// `SecurityLevel`, `IaCVersion`). Lists every gap at once.
    pub fn check_environment(&self, config: &EnvironmentConfig) -> Result<(), CatalogError> {
        // The version is only known at deploy time; here only the parameter names matter.
        let supplied = environment_parameters(config, "");
        let missing: Vec<UnsuppliedParameter> = self
            .stacks
            .values()
            .flat_map(|stack| {
                stack
                    .parameters
                    .iter()
                    .filter(|decl| decl.default.is_none())
                    .filter(|decl| !supplied.contains_key(&decl.name))
                    .filter(|decl| !stack.wiring.iter().any(|w| w.parameter == decl.name))
                    .map(|decl| UnsuppliedParameter {
                        stack: stack.key.clone(),
                        parameter: decl.name.clone(),
                        file: stack.file(),
                    })
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CatalogError::UnsuppliedParameters {
                env: config.environment,
                missing,
            })
        }
    }
}

/// A stack as the catalog declares it, checked on its own: template path, phase, wiring syntax,
/// and that every named stack exists. The template is read later.
fn declare(
    file: &str,
    spec: &spec::CatalogFile,
    key: &StackKey,
    entry: &spec::StackSpec,
    templates_dir: &Path,
) -> Result<CatalogStack, CatalogError> {
    let relative = Path::new(&entry.template);
    let inside = !entry.template.is_empty()
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !inside {
        return Err(CatalogError::TemplatePath {
            file: file.to_string(),
            stack: key.clone(),
            template: entry.template.clone(),
        });
    }
    let phase_known =
        usize::try_from(entry.phase).is_ok_and(|p| (1..=spec.phases.len()).contains(&p));
    if !phase_known {
        return Err(CatalogError::UnknownPhase {
            file: file.to_string(),
            stack: key.clone(),
            phase: entry.phase,
            count: spec.phases.len(),
        });
    }
    let known = |name: &str, place: String| -> Result<StackKey, CatalogError> {
        let unknown = || CatalogError::UnknownStack {
            file: file.to_string(),
            stack: key.clone(),
            place: place.clone(),
            unknown: name.to_string(),
        };
        let upstream: StackKey = name.parse().map_err(|_| unknown())?;
        if spec.stacks.contains_key(&upstream) {
            Ok(upstream)
        } else {
            Err(unknown())
        }
    };
    let mut depends_on = BTreeSet::new();
    for upstream in &entry.depends_on {
        depends_on.insert(known(upstream.as_str(), "depends_on".into())?);
    }
    let mut wiring = Vec::new();
    for (parameter, value) in &entry.wiring {
        let (upstream, output) = value
            .split_once('.')
            .filter(|(stack, output)| !stack.is_empty() && !output.is_empty())
            .ok_or_else(|| CatalogError::WiringSyntax {
                file: file.to_string(),
                stack: key.clone(),
                parameter: parameter.clone(),
                value: value.clone(),
            })?;
        let upstream = known(upstream, format!("wiring of parameter '{parameter}'"))?;
        wiring.push(Wire {
            parameter: parameter.clone(),
            upstream,
            output: output.to_string(),
        });
    }
    let needs = depends_on
        .iter()
        .chain(wiring.iter().map(|w| &w.upstream))
        .cloned()
        .collect();
    Ok(CatalogStack {
        key: key.clone(),
        template: templates_dir.join(relative),
        phase: entry.phase,
        depends_on,
        wiring,
        skip_on_emulator: entry.skip_on_emulator.clone(),
        checks: entry.checks.clone(),
        parameters: Vec::new(),
        outputs: Vec::new(),
        needs,
        exports: Vec::new(),
    })
}

/// Every wired parameter is declared downstream and every wired output upstream.
fn check_wiring(stacks: &BTreeMap<StackKey, CatalogStack>) -> Result<(), CatalogError> {
    for stack in stacks.values() {
        for wire in &stack.wiring {
            if !stack.parameters.iter().any(|p| p.name == wire.parameter) {
                return Err(CatalogError::UnknownParameter {
                    file: stack.file(),
                    stack: stack.key.clone(),
                    parameter: wire.parameter.clone(),
                    declared: stack.parameters.iter().map(|p| p.name.clone()).collect(),
                });
            }
            // Declared to exist by `declare`; a missing entry would be a bug there.
            let Some(upstream) = stacks.get(&wire.upstream) else {
                continue;
            };
            if !upstream.outputs.contains(&wire.output) {
                return Err(CatalogError::UnknownOutput(Box::new(UnknownOutput {
                    file: upstream.file(),
                    stack: stack.key.clone(),
                    parameter: wire.parameter.clone(),
                    upstream: wire.upstream.clone(),
                    output: wire.output.clone(),
                    outputs: upstream.outputs.clone(),
                })));
            }
        }
    }
    Ok(())
}

/// A stack may need stacks of its own or earlier phases only.
fn check_phases(file: &str, stacks: &BTreeMap<StackKey, CatalogStack>) -> Result<(), CatalogError> {
    for stack in stacks.values() {
        for upstream in stack.upstreams() {
            let Some(up) = stacks.get(upstream) else {
                continue;
            };
            if up.phase > stack.phase {
                return Err(CatalogError::PhaseOrder {
                    file: file.to_string(),
                    stack: stack.key.clone(),
                    phase: stack.phase,
                    upstream: upstream.clone(),
                    upstream_phase: up.phase,
                });
            }
        }
    }
    Ok(())
}

/// No export name is declared by two outputs, in any environment, with each stack named as the
/// pipeline names it (`infra-agent-{env}-{stack}`).
fn check_exports(stacks: &BTreeMap<StackKey, CatalogStack>) -> Result<(), CatalogError> {
    for env in Env::ALL {
        let mut seen: BTreeMap<String, (&CatalogStack, &str)> = BTreeMap::new();
        for stack in stacks.values() {
            let stack_name = naming::stack_name(env, &stack.key);
            for export in &stack.exports {
                let Some(name) = exports::resolve(&export.name, &stack_name, env.as_str()) else {
                    continue;
                };
                if let Some((first, first_output)) = seen.get(&name) {
                    return Err(CatalogError::DuplicateExport(Box::new(DuplicateExport {
                        env,
                        export: name,
                        first_stack: first.key.clone(),
                        first_output: first_output.to_string(),
                        first_file: first.file(),
                        second_stack: stack.key.clone(),
                        second_output: export.output.clone(),
                        second_file: stack.file(),
                    })));
                }
                seen.insert(name, (stack, export.output.as_str()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
