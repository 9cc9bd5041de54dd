//! What of a template a rules file can reach, read from its text: the resources its filters
//! select and the keys its queries can land on, by guard's own case-converting lookups.

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::validation::schema;

/// A resource attribute the validator derives from the resource schemas for the rules to select
/// on: how a taggable resource writes its `Tags` (`list` or `map`, see `schema::tag_shape`).
/// CloudFormation has no such attribute, so whatever a template writes under the name is dropped.
pub(super) const TAG_SHAPE: &str = "TagShape";

/// The resources a rules file's filters can select: those of the named types and, when a filter
/// selects on `TagShape`, every resource the schema gives a tag shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SelectedResources {
    pub(crate) types: BTreeSet<String>,
    pub(crate) tag_shaped: bool,
}

impl SelectedResources {
    fn includes(&self, resource_type: &str) -> bool {
        self.types.contains(resource_type)
            || (self.tag_shaped && schema::tag_shape(resource_type).is_some())
    }
}

/// The resources a rules file selects, when it reaches resources only through
/// `Resources.*[ Type … ]` / `Resources[ id | Type … ]` / `Resources.*[ TagShape … ]` filters;
/// `None` when any query could see other resources. Guard's cost grows with every resource each
/// filter scans, so a file is run on just the resources it can select.
pub(crate) fn selected_resources(text: &str) -> Option<SelectedResources> {
    let code = query_code(text);
    let mut selected = SelectedResources::default();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("Resources") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "Resources".len()..];
        rest = after;
        // `x.Resources` is a property named Resources, and `FooResources` another word.
        let word = |c: char| c.is_alphanumeric() || c == '_';
        if before.is_some_and(|c| c == '.' || word(c)) || after.starts_with(word) {
            continue;
        }
        let filter = after
            .strip_prefix(".*")
            .unwrap_or(after)
            .trim_start()
            .strip_prefix('[')?;
        let filter = &filter[..filter.find(']')?];
        // An `or` could let a resource of another type through the filter, a negation any.
        let widened = filter
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case("or") || w == "||" || w.eq_ignore_ascii_case("not"))
            || filter.contains('!');
        if widened {
            return None;
        }
        if filter.contains("Type ==") || filter.contains("Type in") {
            continue;
        }
        if filter.contains("TagShape ==") || filter.contains("TagShape in") {
            selected.tag_shaped = true;
            continue;
        }
        return None;
    }
    for quoted in code.split('\'').skip(1).step_by(2) {
        if quoted.contains("::") {
            selected.types.insert(quoted.to_string());
        }
    }
    Some(selected)
}

/// What of a template one rules file can reach: the resource types it selects and, when its
/// queries name every key they read down to a resource's properties, those names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Selection {
    resources: SelectedResources,
    /// The keys the rules' identifiers can reach: a section or resource attribute is kept if it
    /// is one. Empty when a query could see every key.
    words: Keys,
    /// The keys reachable right under `Properties`; `None` when a query could see all of them.
    properties: Option<Keys>,
}

impl Selection {
    pub(super) fn of(text: &str) -> Option<Selection> {
        let resources = selected_resources(text)?;
        let code = without_literals(&query_code(text));
        let words = Keys::of(identifiers(&code).map(|(_, w)| w));
        // A query starting with `*` or `this`, or a whole resource compared or tested, could see
        // any attribute: then only whole sections and whole resources are left out.
        let reads_everything = words.contains("this")
            || code
                .match_indices('*')
                .any(|(at, _)| !code[..at].ends_with("Resources.") && !code[..at].ends_with('['));
        let properties = (!reads_everything && variables_only_traversed(&code))
            .then(|| property_names(&code))
            .flatten();
        let words = if reads_everything {
            Keys::default()
        } else {
            words
        };
        Some(Selection {
            resources,
            words,
            properties,
        })
    }

    /// The same resources with every key of them: what a selection would show guard without
    /// reading the rules' queries.
    #[cfg(test)]
    pub(super) fn with_every_key(&self) -> Selection {
        Selection {
            words: Keys::default(),
            properties: None,
            ..self.clone()
        }
    }

    /// Whether a query can reach the key `key` of a section or resource: guard looks keys up
    /// as written and, failing that, in other letter cases (camel, snake, class …).
    pub(super) fn reaches(&self, key: &str) -> bool {
        self.words.is_empty() || self.words.contains(key)
    }

    /// Whether a resource is one the rules file can select.
    pub(super) fn selects(&self, resource: &Value) -> bool {
        resource
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|t| self.resources.includes(t))
    }

    pub(super) fn reaches_property(&self, key: &str) -> bool {
        self.properties
            .as_ref()
            .is_none_or(|keys| keys.contains(key))
    }
}

/// The keys guard's lookups of a set of words can land on: each word as written and, where no key
/// is written so, its camel, class, kebab, pascal, snake, title and train case forms (cruet's, the
/// conversions guard itself tries).
///
/// Class case also makes the last word singular, through a table of regular expressions that
/// costs milliseconds to build; that one form is bounded rather than computed. Its letters and
/// digits, in lower case, are a prefix of the word's followed by one of the endings cruet's
/// singular rules write (`CLASS_CASE_ENDINGS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Keys {
    /// The words as written and in every form but class case.
    exact: BTreeSet<String>,
    /// Every prefix of the words' letters and digits in lower case: what class case can keep.
    kept: HashSet<String>,
}

/// What cruet's singular rules (and its irregular singulars) put after the part of a word they
/// keep: `Tags` keeps `Tag` and adds nothing, `Policies` keeps `Polic` and adds `y`.
const CLASS_CASE_ENDINGS: [&str; 25] = [
    "", "ews", "um", "sis", "fe", "f", "y", "eries", "ovie", "ouse", "is", "xis", "us", "ex", "ix",
    "ox", "box", "man", "woman", "die", "yes", "foot", "eave", "goose", "tooth",
];

impl Keys {
    fn of<'a>(words: impl IntoIterator<Item = &'a str>) -> Keys {
        use cruet::case::{camel, kebab, pascal, snake, title, train};
        const CONVERSIONS: [fn(&str) -> String; 6] = [
            camel::to_camel_case,
            kebab::to_kebab_case,
            pascal::to_pascal_case,
            snake::to_snake_case,
            title::to_title_case,
            train::to_train_case,
        ];
        let mut keys = Keys::default();
        for word in words {
            keys.exact.insert(word.to_string());
            keys.exact
                .extend(CONVERSIONS.iter().map(|convert| convert(word)));
            let folded = folded(word);
            keys.kept
                .extend((0..=folded.len()).map(|end| folded[..end].to_string()));
        }
        keys
    }

    fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    fn contains(&self, key: &str) -> bool {
        if self.exact.contains(key) {
            return true;
        }
        let key = folded(key);
        CLASS_CASE_ENDINGS.iter().any(|ending| {
            key.strip_suffix(ending)
                .is_some_and(|kept| self.kept.contains(kept))
        })
    }
}

/// The letters and digits of `text`, in lower case.
fn folded(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether guard's lookup of the derived `TagShape` attribute could land on `key`.
pub(super) fn could_be_tag_shape(key: &str) -> bool {
    static NAMES: OnceLock<Keys> = OnceLock::new();
    NAMES.get_or_init(|| Keys::of([TAG_SHAPE])).contains(key)
}

/// The rules text without comments and custom messages (`<<…>>`): prose, not queries.
fn query_code(text: &str) -> String {
    let mut code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    while let Some(start) = code.find("<<") {
        let end = code[start..]
            .find(">>")
            .map_or(code.len(), |e| start + e + 2);
        code.replace_range(start..end, "");
    }
    code
}

/// `code` with the contents of quoted literals blanked, so only query words remain.
fn without_literals(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut quote = None;
    for c in code.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => out.push(' '),
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

fn identifiers(code: &str) -> impl Iterator<Item = (usize, &str)> {
    fn word(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }
    code.match_indices(|c: char| !word(c))
        .map(|(at, _)| at + 1)
        .chain(std::iter::once(0))
        .filter_map(move |start| {
            let rest = code.get(start..)?;
            let len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
            let w = &rest[..len];
            (!w.is_empty() && !code[..start].ends_with(word)).then_some((start, w))
        })
}

/// Every `%variable` is followed by a block, a query or an emptiness test: never compared or
/// passed whole, which would see the attributes a projection leaves out.
fn variables_only_traversed(code: &str) -> bool {
    code.match_indices('%').all(|(at, _)| {
        let rest = &code[at + 1..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = rest[name_len..].trim_start();
        after.starts_with('{')
            || after.starts_with('.')
            || after.starts_with("!empty")
            || after.starts_with("empty")
            || after.starts_with("not empty")
    })
}

/// The names that follow `Properties.`; `None` if `Properties` is ever read any other way.
fn property_names(code: &str) -> Option<Keys> {
    let mut names = BTreeSet::new();
    for (at, word) in identifiers(code) {
        if word != "Properties" {
            continue;
        }
        let rest = code[at + word.len()..].strip_prefix('.')?;
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        names.insert(&rest[..len]);
    }
    Some(Keys::of(names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::policy::RULE_FILES;

    fn selection(file: &str) -> Selection {
        let source = RULE_FILES.iter().find(|s| s.file == file);
        match source.and_then(|s| Selection::of(s.text)) {
            Some(selection) => selection,
            None => panic!("{file} selects no types"),
        }
    }

    #[test]
    fn tag_rules_are_shown_only_the_tags_of_their_resources() {
        let cm = selection("cm.guard");
        let tags = cm.properties.as_ref();
        assert!(tags.is_some_and(|keys| keys.contains("Tags")));
        assert!(cm.reaches("Properties") && cm.reaches("Resources"));
        // No rule reads a resource's type: it is left out, and resources of different types
        // with the same tags are judged once.
        assert!(!cm.reaches("Type"));
        assert!(cm.reaches(TAG_SHAPE) && cm.resources.tag_shaped);
        assert!(!cm.reaches("Metadata") && !cm.reaches("Outputs"));
        assert!(!cm.reaches_property("CidrBlock"));
        // Guard reads `Tags` as `tags` or, in class case, `Tag` when it is missing.
        assert!(cm.reaches_property("tags") && cm.reaches_property("Tag"));
        assert!(!cm.reaches_property("Tagging") && !cm.reaches_property("TagSpecifications"));
    }

    #[test]
    fn keys_hold_every_form_guard_looks_a_word_up_in() {
        use cruet::case::{camel, class, kebab, pascal, snake, title, train};
        let mut words: Vec<String> = RULE_FILES
            .iter()
            .flat_map(|s| {
                let code = without_literals(&query_code(s.text));
                identifiers(&code)
                    .map(|(_, w)| w.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        // Words each of cruet's singular rules (and its irregular singulars) rewrites.
        words.extend(
            [
                "Tags",
                "Policies",
                "Statuses",
                "Aliases",
                "Matrices",
                "Vertices",
                "Indices",
                "Analyses",
                "Theses",
                "Crises",
                "Leaves",
                "Wives",
                "Hives",
                "Movies",
                "Series",
                "News",
                "Mice",
                "Buses",
                "Shoes",
                "Axes",
                "Octopi",
                "Viruses",
                "Oxen",
                "Quizzes",
                "Databases",
                "Data",
                "Media",
                "Boxes",
                "Women",
                "Feet",
                "Geese",
                "Teeth",
                "Heroes",
                "Addresses",
                "Dice",
                "Yeses",
                "Eaves",
                "men",
                "women",
                "oxen",
                "SecurityGroupIngress",
                "ip_protocol",
                "from-port",
                "cidr ip v6",
            ]
            .map(String::from),
        );
        let forms: [fn(&str) -> String; 7] = [
            camel::to_camel_case,
            class::to_class_case,
            kebab::to_kebab_case,
            pascal::to_pascal_case,
            snake::to_snake_case,
            title::to_title_case,
            train::to_train_case,
        ];
        for word in &words {
            let keys = Keys::of([word.as_str()]);
            assert!(keys.contains(word), "{word}");
            for form in forms {
                let key = form(word);
                assert!(keys.contains(&key), "{word}: {key} is not among its keys");
            }
        }
        let tags = Keys::of(["Tags"]);
        assert!(!tags.contains("Type") && !tags.contains("TagSpecifications"));
    }

    #[test]
    fn a_rules_file_comparing_whole_values_keeps_every_property() {
        let au = selection("au.guard");
        assert_eq!(au.properties, None, "`%vpc_id in …` compares a variable");
        let text = "let b = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r when %b !empty {\n  %b { Properties !empty }\n}\n";
        assert_eq!(Selection::of(text).and_then(|s| s.properties), None);
        let text = "let b = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r when %b !empty {\n  %b { Properties.* exists }\n}\n";
        assert_eq!(Selection::of(text).map(|s| s.words.is_empty()), Some(true));
        let text = "let b = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r when %b !empty {\n  %b.Properties.Tags == %b.Properties.Name\n}\n";
        assert_eq!(
            Selection::of(text).map(|s| s.properties.is_some()),
            Some(true)
        );
    }
}
