//! Our YAML reader against cfn-lint's own loader (libyaml): `scripts/yaml-variants` writes
//! layout variants of corpus templates with what cfn-lint read from each; this reads each with
//! `Template::parse` and counts where the two agree, and how.
//!
//! Where cfn-lint reads a variant we must read the same value; where it refuses, we refuse.
//! Both read the same layout, but cfn-lint resolves untagged plain scalars by YAML 1.1 and we
//! by YAML 1.2 (the core schema), so these count as the same value, each noted:
//! - a YAML 1.1 boolean spelling we keep as a string (`yes`, `no`, `on`, `off`);
//! - a YAML 1.1 number we keep as a string (`1_000`, `0b101`, `1:30`) or read otherwise (`0777`
//!   is 511 there, 777 here);
//! - a YAML 1.1 timestamp we keep as a string (`2012-10-17` is a date there);
//! - a YAML 1.2 number YAML 1.1 keeps as a string (`1e3`, `0o17`).
//!
//! And these are ours by design, counted apart from disagreements: a template that is not a
//! mapping, or a `!GetAtt` without a dot (cfn-lint's loader reads them, its rules refuse them
//! later); duplicate keys in a tagged mapping (cfn-lint keeps the last, we refuse them);
//! infinities and NaN (JSON has none); aliases bounded before they expand; and NEL, U+2028 and
//! U+2029 outside escapes (libyaml breaks lines at them, YAML 1.2 does not: we refuse them
//! rather than read another value).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use infra_agent_core::template::Template;
use serde_json::{Map, Value};

/// How one variant came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Both read it, to the same value (with the YAML 1.1/1.2 differences listed).
    SameValue(BTreeSet<&'static str>),
    BothRefuse,
    /// A difference by design (see the module's comment).
    ByDesign(&'static str),
    Disagree {
        class: &'static str,
        detail: String,
    },
}

/// One variant, as the generator wrote it.
#[derive(Debug, Clone)]
pub struct Variant {
    pub n: u64,
    pub base: String,
    pub kinds: Vec<String>,
    pub body: String,
    cfn_lint: Result<Value, String>,
}

/// Counts over a run.
#[derive(Debug, Default)]
pub struct Tally {
    pub variants: usize,
    pub same_value: usize,
    pub both_refuse: usize,
    /// YAML 1.1/1.2 difference → variants whose value needed it.
    pub normalised: BTreeMap<&'static str, usize>,
    pub by_design: BTreeMap<&'static str, usize>,
    pub disagreements: BTreeMap<&'static str, usize>,
    /// Variant kind → disagreements among variants of that kind.
    pub disagreeing_kinds: BTreeMap<String, usize>,
    /// The first disagreements, to look at.
    pub examples: Vec<(Variant, Outcome)>,
}

impl Tally {
    pub fn disagreement_count(&self) -> usize {
        self.disagreements.values().sum()
    }

    fn add(&mut self, variant: Variant, outcome: Outcome) {
        self.variants += 1;
        match &outcome {
            Outcome::SameValue(notes) => {
                self.same_value += 1;
                for note in notes {
                    *self.normalised.entry(note).or_default() += 1;
                }
            }
            Outcome::BothRefuse => self.both_refuse += 1,
            Outcome::ByDesign(why) => *self.by_design.entry(why).or_default() += 1,
            Outcome::Disagree { class, .. } => {
                *self.disagreements.entry(class).or_default() += 1;
                for kind in &variant.kinds {
                    *self.disagreeing_kinds.entry(kind.clone()).or_default() += 1;
                }
                if self.examples.len() < 40 {
                    self.examples.push((variant, outcome));
                }
            }
        }
    }
}

/// Where the generator and cfn-lint are: the repository's `.venv` and `scripts/`.
pub struct Generator {
    pub python: PathBuf,
    pub script: PathBuf,
}

impl Generator {
    /// The repository's root: this crate is shared/core.
    pub fn in_repository() -> Generator {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Generator {
            python: root.join(".venv/bin/python"),
            script: root.join("scripts/yaml-variants"),
        }
    }

    /// Runs `count` variants of seed `seed` over `files`, comparing each as it arrives.
    pub fn run(&self, files: &[PathBuf], count: usize, seed: &str) -> Result<Tally, String> {
        let mut child = Command::new(&self.python)
            .arg(&self.script)
            .args(["--count", &count.to_string(), "--seed", seed])
            .args(files)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.python.display()))?;
        let stdout = child.stdout.take().ok_or("the generator has no output")?;
        let mut tally = Tally::default();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("cannot read the generator's output: {e}"))?;
            let variant = decode(&line)?;
            let outcome = compare(&variant);
            tally.add(variant, outcome);
        }
        let status = child
            .wait()
            .map_err(|e| format!("the generator did not end: {e}"))?;
        if !status.success() {
            return Err(format!("the generator failed: {status}"));
        }
        if tally.variants != count {
            return Err(format!(
                "asked for {count} variants, got {}",
                tally.variants
            ));
        }
        Ok(tally)
    }
}

fn decode(line: &str) -> Result<Variant, String> {
    let record: Value =
        serde_json::from_str(line).map_err(|e| format!("unreadable variant: {e}"))?;
    let text = |key: &str| record[key].as_str().map(str::to_string);
    let reading = &record["cfn_lint"];
    let cfn_lint = match (
        reading.get("value"),
        reading.get("refused").and_then(Value::as_str),
    ) {
        (_, Some(message)) => Err(message.to_string()),
        (Some(value), None) => Ok(value.clone()),
        (None, None) => return Err(format!("variant without cfn-lint's reading: {line}")),
    };
    Ok(Variant {
        n: record["n"].as_u64().ok_or("variant without a number")?,
        base: text("base").unwrap_or_default(),
        kinds: record["kinds"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        body: text("body").ok_or("variant without a body")?,
        cfn_lint,
    })
}

/// Reads `variant` with our reader and judges the result against cfn-lint's.
pub fn compare(variant: &Variant) -> Outcome {
    let ours = Template::parse("variant.yaml", &variant.body);
    let theirs = match &variant.cfn_lint {
        Err(message) => {
            return match ours {
                Err(_) => Outcome::BothRefuse,
                Ok(_) => Outcome::Disagree {
                    class: "we read what cfn-lint refuses",
                    detail: format!("cfn-lint: {message}"),
                },
            };
        }
        Ok(value) => value,
    };
    if variant
        .body
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
    {
        return Outcome::ByDesign("a body starting with '{' is read as JSON only");
    }
    let mapping = theirs.as_object().is_some_and(|m| !m.is_empty());
    match ours {
        Err(_) if !mapping => {
            Outcome::ByDesign("not a mapping of sections (cfn-lint's rules refuse it later)")
        }
        Err(e) if e.message.contains("has no JSON form") && holds_special(theirs, "$float") => {
            Outcome::ByDesign("infinity or NaN (JSON has none)")
        }
        Err(e) if e.message.contains("!GetAtt") && e.message.contains("LogicalId.Attribute") => {
            Outcome::ByDesign("!GetAtt without a dot (cfn-lint's rules refuse it later)")
        }
        // cfn-lint checks for duplicate keys except in a tagged mapping (`!Base64 {a: 1, a: 2}`),
        // where the last one wins; we refuse them everywhere.
        Err(e) if e.message.contains("duplicated key") => {
            Outcome::ByDesign("duplicate keys in a tagged mapping (cfn-lint keeps the last)")
        }
        Err(e) if e.message.contains("line separator") => {
            Outcome::ByDesign("NEL, U+2028 or U+2029 refused (libyaml breaks lines there)")
        }
        Err(e) if e.message.contains("aliases") => {
            Outcome::ByDesign("aliases bounded before they expand")
        }
        Err(e) => Outcome::Disagree {
            class: "we refuse what cfn-lint reads",
            detail: e.to_string(),
        },
        Ok(t) => {
            let mut notes = BTreeSet::new();
            let mut path = String::new();
            if same(&t.value, theirs, &mut notes, &mut path) {
                Outcome::SameValue(notes)
            } else {
                Outcome::Disagree {
                    class: "we read another value",
                    detail: format!(
                        "first difference at {path:?}: ours {}, cfn-lint's {}",
                        t.value.pointer(&path).unwrap_or(&Value::Null),
                        theirs.pointer(&path).unwrap_or(&Value::Null)
                    ),
                }
            }
        }
    }
}

fn holds_special(value: &Value, marker: &str) -> bool {
    match value {
        Value::Object(m) => m.contains_key(marker) || m.values().any(|v| holds_special(v, marker)),
        Value::Array(a) => a.iter().any(|v| holds_special(v, marker)),
        _ => false,
    }
}

const BOOLEANS_11: &str = "YAML 1.1 booleans (yes, no, on, off)";
const NUMBERS_11: &str = "YAML 1.1 numbers (1_000, 0b1, 0777, 1:30)";
const TIMESTAMPS_11: &str = "YAML 1.1 timestamps (2012-10-17)";
const NUMBERS_12: &str = "YAML 1.2 numbers (1e3, 0o17)";

/// Whether our value is cfn-lint's, up to YAML 1.1/1.2 resolution; `path` ends where they part.
fn same(
    ours: &Value,
    theirs: &Value,
    notes: &mut BTreeSet<&'static str>,
    path: &mut String,
) -> bool {
    if ours == theirs {
        return true;
    }
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) if !is_special(b) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&ka.replace('~', "~0").replace('/', "~1"));
                    let equal = same_key(ka, kb, notes) && same(va, vb, notes, path);
                    if equal {
                        path.truncate(len);
                    }
                    equal
                })
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).enumerate().all(|(i, (va, vb))| {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    let equal = same(va, vb, notes, path);
                    if equal {
                        path.truncate(len);
                    }
                    equal
                })
        }
        // Only a scalar YAML 1.2 reads as a string when plain: had it been quoted, cfn-lint
        // would have read a string too.
        (Value::String(s), _) if !plain12_is_string(s) => false,
        (Value::String(s), theirs) => match (yaml11(s), theirs) {
            (Some(Resolved::Bool(a)), Value::Bool(b)) if a == *b => note(notes, BOOLEANS_11),
            (Some(Resolved::Int(a)), Value::Number(b))
                if b.as_i64().map(i128::from) == Some(a)
                    || b.as_u64().map(i128::from) == Some(a) =>
            {
                note(notes, NUMBERS_11)
            }
            (Some(Resolved::Int(a)), Value::Object(b))
                if b.get("$int").and_then(Value::as_str) == Some(&a.to_string()) =>
            {
                note(notes, NUMBERS_11)
            }
            (Some(Resolved::Float(a)), Value::Number(b)) if b.as_f64() == Some(a) => {
                note(notes, NUMBERS_11)
            }
            (Some(Resolved::Timestamp(a)), Value::Object(b))
                if b.get("$timestamp") == Some(&Value::from(a.clone())) =>
            {
                note(notes, TIMESTAMPS_11)
            }
            _ => false,
        },
        (Value::Number(a), Value::String(s)) => {
            yaml12_number(s).is_some_and(|n| &n == a) && note(notes, NUMBERS_12)
        }
        (Value::Number(a), Value::Number(b)) => {
            // `0777`: octal in YAML 1.1, decimal in 1.2.
            a.as_u64()
                .and_then(|a| u64::from_str_radix(&a.to_string(), 8).ok())
                .is_some_and(|octal| b.as_u64() == Some(octal))
                && note(notes, NUMBERS_11)
        }
        _ => false,
    }
}

fn note(notes: &mut BTreeSet<&'static str>, what: &'static str) -> bool {
    notes.insert(what);
    true
}

fn is_special(value: &Map<String, Value>) -> bool {
    value.len() == 1 && value.keys().all(|k| k.starts_with('$'))
}

/// Mapping keys: cfn-lint's non-string keys are written as JSON writes them.
fn same_key(ours: &str, theirs: &str, notes: &mut BTreeSet<&'static str>) -> bool {
    if ours == theirs {
        return true;
    }
    let as_11 = match yaml11(ours) {
        Some(Resolved::Bool(b)) => Some((b.to_string(), BOOLEANS_11)),
        Some(Resolved::Int(i)) => Some((i.to_string(), NUMBERS_11)),
        Some(Resolved::Timestamp(t)) if t.len() == 3 => Some((
            format!("{:04}-{:02}-{:02}", t[0], t[1], t[2]),
            TIMESTAMPS_11,
        )),
        _ => None,
    };
    if let Some((text, what)) = as_11 {
        if text == theirs {
            return note(notes, what);
        }
    }
    match yaml12_number(theirs) {
        Some(n) if n.as_i64().map(|i| i.to_string()).as_deref() == Some(ours) => {
            note(notes, NUMBERS_12)
        }
        Some(n) if n.as_f64().map(|f| f.to_string()).as_deref() == Some(ours) => {
            note(notes, NUMBERS_12)
        }
        _ => false,
    }
}

/// How YAML 1.1 (PyYAML's resolver and constructor) reads a plain scalar that YAML 1.2 reads as
/// a string.
#[derive(Debug, PartialEq)]
enum Resolved {
    Bool(bool),
    Int(i128),
    Float(f64),
    /// [y, m, d] or [y, m, d, h, min, s, microsecond, utc offset seconds or null].
    Timestamp(Vec<Value>),
}

fn yaml11(s: &str) -> Option<Resolved> {
    match s {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Some(Resolved::Bool(true))
        }
        "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Some(Resolved::Bool(false))
        }
        _ => {}
    }
    timestamp11(s)
        .map(Resolved::Timestamp)
        .or_else(|| int11(s).map(Resolved::Int))
        .or_else(|| float11(s).map(Resolved::Float))
}

fn sign(s: &str) -> (i128, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    }
}

fn int11(s: &str) -> Option<i128> {
    let (sign, body) = sign(s);
    let digits = |d: &str, radix: u32| {
        (!d.is_empty() && d.chars().all(|c| c == '_' || c.is_digit(radix)))
            .then(|| i128::from_str_radix(&d.replace('_', ""), radix).ok())
            .flatten()
    };
    let value = if let Some(b) = body.strip_prefix("0b") {
        digits(b, 2)?
    } else if let Some(x) = body.strip_prefix("0x") {
        digits(x, 16)?
    } else if body.contains(':') {
        let mut parts = body.split(':');
        let first = parts.next()?;
        if !first.starts_with(|c: char| ('1'..='9').contains(&c)) {
            return None;
        }
        let mut value = digits(first, 10)?;
        for part in parts {
            if part.is_empty()
                || part.len() > 2
                || !part.chars().all(|c| c.is_ascii_digit())
                || part.parse::<i128>().ok()? > 59
            {
                return None;
            }
            value = value * 60 + part.parse::<i128>().ok()?;
        }
        value
    } else if body.len() > 1 && body.starts_with('0') {
        digits(&body[1..], 8)?
    } else if body == "0" || body.starts_with(|c: char| ('1'..='9').contains(&c)) {
        digits(body, 10)?
    } else {
        return None;
    };
    Some(sign * value)
}

fn float11(s: &str) -> Option<f64> {
    let (sign, body) = sign(s);
    let sign = sign as f64;
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if sign > 0.0 && !s.starts_with('+') => return Some(f64::NAN),
        _ => {}
    }
    if body.contains(':') {
        let (whole, fraction) = body.split_once('.')?;
        let mut parts = whole.split(':');
        let mut value = parts.next()?.replace('_', "").parse::<f64>().ok()?;
        for part in parts {
            value = value * 60.0 + part.parse::<f64>().ok()?;
        }
        return Some(
            sign * (value
                + format!("0.{}", fraction.replace('_', ""))
                    .parse::<f64>()
                    .ok()?),
        );
    }
    // [0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? or \.[0-9][0-9_]*([eE][-+][0-9]+)?
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.')?;
    let whole_ok = if whole.is_empty() {
        fraction.starts_with(|c: char| c.is_ascii_digit()) && s.starts_with('.')
    } else {
        whole.starts_with(|c: char| c.is_ascii_digit())
            && whole.chars().all(|c| c == '_' || c.is_ascii_digit())
    };
    let fraction_ok = fraction.chars().all(|c| c == '_' || c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        e.len() > 1
            && (e.starts_with('+') || e.starts_with('-'))
            && e[1..].chars().all(|c| c.is_ascii_digit())
    });
    if !(whole_ok && fraction_ok && exponent_ok) {
        return None;
    }
    let text = format!(
        "{}{}",
        if sign < 0.0 { "-" } else { "" },
        body.replace('_', "")
    );
    let text = if text.ends_with('.') {
        format!("{text}0")
    } else {
        text
    };
    text.replace(".e", ".0e").replace(".E", ".0E").parse().ok()
}

fn timestamp11(s: &str) -> Option<Vec<Value>> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = s.get(from..from + n)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    if b.len() < 8 || b[4] != b'-' {
        return None;
    }
    let year = digits(0, 4)?;
    if b.len() == 10 && b[7] == b'-' {
        return Some(vec![
            year.into(),
            digits(5, 2)?.into(),
            digits(8, 2)?.into(),
        ]);
    }
    // yyyy-m?m-d?d([Tt]|[ \t]+)h?h:mm:ss(.f*)?([ \t]*(Z|[-+]h?h(:mm)?))?
    let mut at = 5;
    let number = |at: &mut usize, max: usize| -> Option<i64> {
        let len = b[*at..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let value = digits(*at, len.max(1))?;
        *at += len;
        Some(value)
    };
    let month = number(&mut at, 2)?;
    (b.get(at) == Some(&b'-')).then_some(())?;
    at += 1;
    let day = number(&mut at, 2)?;
    match b.get(at) {
        Some(b'T' | b't') => at += 1,
        Some(b' ' | b'\t') => {
            at += b[at..]
                .iter()
                .take_while(|c| matches!(c, b' ' | b'\t'))
                .count()
        }
        _ => return None,
    }
    let hour = number(&mut at, 2)?;
    (b.get(at) == Some(&b':')).then_some(())?;
    at += 1;
    let (minute, second) = (digits(at, 2)?, {
        (b.get(at + 2) == Some(&b':')).then_some(())?;
        digits(at + 3, 2)?
    });
    at += 5;
    let mut micro = 0;
    if b.get(at) == Some(&b'.') {
        let len = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let mut fraction: String = s[at + 1..at + 1 + len].chars().take(6).collect();
        while fraction.len() < 6 {
            fraction.push('0');
        }
        micro = fraction.parse().ok()?;
        at += 1 + len;
    }
    at += b[at..]
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count();
    let offset = match b.get(at) {
        None => Value::Null,
        Some(b'Z') if at + 1 == b.len() => Value::from(0),
        Some(c @ (b'+' | b'-')) => {
            at += 1;
            let hours = number(&mut at, 2)?;
            let minutes = if b.get(at) == Some(&b':') {
                let m = digits(at + 1, 2)?;
                at += 3;
                m
            } else {
                0
            };
            (at == b.len()).then_some(())?;
            Value::from((hours * 3600 + minutes * 60) * if *c == b'-' { -1 } else { 1 })
        }
        _ => return None,
    };
    Some(vec![
        year.into(),
        month.into(),
        day.into(),
        hour.into(),
        minute.into(),
        second.into(),
        micro.into(),
        offset,
    ])
}

fn plain12_is_string(s: &str) -> bool {
    Template::parse("scalar.yaml", &format!("k: {s}\n"))
        .is_ok_and(|t| t.value["k"].as_str() == Some(s))
}

/// How our reader (YAML 1.2) reads `s` as a plain scalar, when that is a number.
fn yaml12_number(s: &str) -> Option<serde_json::Number> {
    let t = Template::parse("scalar.yaml", &format!("k: {s}\n")).ok()?;
    match &t.value["k"] {
        Value::Number(n) => Some(n.clone()),
        _ => None,
    }
}

/// A report of the run, as the bench prints it and the test shows it on failure.
pub fn report(tally: &Tally) -> String {
    let mut out = format!(
        "{} variants: {} read to the same value, {} refused by both, {} different by design, {} disagreements\n",
        tally.variants,
        tally.same_value,
        tally.both_refuse,
        tally.by_design.values().sum::<usize>(),
        tally.disagreement_count()
    );
    for (what, n) in &tally.normalised {
        out.push_str(&format!("  same value up to {what}: {n}\n"));
    }
    for (what, n) in &tally.by_design {
        out.push_str(&format!("  by design, {what}: {n}\n"));
    }
    for (what, n) in &tally.disagreements {
        out.push_str(&format!("  DISAGREE, {what}: {n}\n"));
    }
    if !tally.disagreeing_kinds.is_empty() {
        out.push_str("  disagreements by variant kind:");
        for (kind, n) in &tally.disagreeing_kinds {
            out.push_str(&format!(" {kind} {n},"));
        }
        out.push('\n');
    }
    for (variant, outcome) in tally.examples.iter().take(5) {
        out.push_str(&format!(
            "  variant {} of {} ({}): {outcome:?}\n----\n{}\n----\n",
            variant.n,
            variant.base,
            variant.kinds.join(", "),
            variant.body
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn yaml_1_1_scalars_resolve_as_pyyaml_resolves_them() {
        use super::{yaml11, Resolved};
        assert_eq!(yaml11("yes"), Some(Resolved::Bool(true)));
        assert_eq!(yaml11("0777"), Some(Resolved::Int(511)));
        assert_eq!(yaml11("1_000"), Some(Resolved::Int(1000)));
        assert_eq!(yaml11("1:30"), Some(Resolved::Int(90)));
        assert_eq!(yaml11("0b101"), Some(Resolved::Int(5)));
        assert_eq!(yaml11("1.5"), Some(Resolved::Float(1.5)));
        assert_eq!(yaml11("1e3"), None);
        assert_eq!(yaml11("abc"), None);
        assert_eq!(
            yaml11("2012-10-17"),
            Some(Resolved::Timestamp(vec![2012.into(), 10.into(), 17.into()]))
        );
        assert_eq!(
            yaml11("2001-12-14t21:59:43.10-05:00"),
            Some(Resolved::Timestamp(vec![
                2001.into(),
                12.into(),
                14.into(),
                21.into(),
                59.into(),
                43.into(),
                100000.into(),
                (-18000).into()
            ]))
        );
    }
}
