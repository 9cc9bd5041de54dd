//! Reads a YAML template into long-form JSON, expanding short-form tags and recording the line
//! of every node, so findings about any property can point at the source.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

use super::aliases;
use super::intrinsics;
use super::layout;
use super::pointer::{self, LineMap};
use super::{ParseError, UnknownTag};

/// How deep a template may nest, counted in JSON levels: serde_json's limit, so YAML and JSON
/// templates are held to the same.
pub const MAX_DEPTH: usize = 128;

/// The furthest right a block node may start. The YAML reader builds, hashes and drops its tree
/// recursively, so input nested thousands of levels deep would overflow the stack before any
/// depth check on the tree could run; block nesting needs a column per level (two at most share
/// one), and flow nesting the reader itself stops at 255 levels.
const MAX_BLOCK_COLUMN: usize = 512;

/// Parses one YAML document. Duplicate keys, anchors' aliases to nowhere and multi-document
/// streams are errors: CloudFormation would reject or misread them. Unknown `!` tags are
/// returned beside the value, for validation to report.
pub fn parse(
    source_name: &str,
    body: &str,
) -> Result<(Value, LineMap, Vec<UnknownTag>), ParseError> {
    if let Some(line) = first_line_too_deep(body) {
        return Err(error_at(
            source_name,
            Some(line),
            format!("the template nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    let relaid = layout::relay(body).map_err(|e| error_at(source_name, Some(e.line), e.message))?;
    let body = relaid.text.as_ref();
    aliases::check(body).map_err(|e| error_at(source_name, Some(e.line), e.message))?;
    let docs = MarkedYaml::load_from_str(body).map_err(|e| {
        let line = to_u32(e.marker().line());
        ParseError {
            source_name: source_name.to_string(),
            line: Some(line),
            column: Some(relaid.original_column(line, to_u32(e.marker().col() + 1))),
            message: e.info().to_string(),
        }
    })?;
    let mut docs = docs.into_iter();
    let Some(doc) = docs.next() else {
        return Err(error_at(source_name, None, "the template is empty".into()));
    };
    if let Some(extra) = docs.next() {
        return Err(error_at(
            source_name,
            Some(line_of(&extra)),
            "a template is one YAML document, found a second one".into(),
        ));
    }
    if matches!(doc.data, YamlData::BadValue | YamlData::Value(Scalar::Null)) {
        return Err(error_at(source_name, None, "the template is empty".into()));
    }
    let mut converter = Converter {
        source_name,
        source: Source::new(body),
        lines: LineMap::new(),
        depth: 0,
        unknown_tags: Vec::new(),
    };
    let value = converter.convert(&doc, &mut String::new(), None)?;
    Ok((value, converter.lines, converter.unknown_tags))
}

struct Converter<'a> {
    source_name: &'a str,
    source: Source<'a>,
    lines: LineMap,
    /// JSON levels above the node being converted.
    depth: usize,
    unknown_tags: Vec<UnknownTag>,
}

impl Converter<'_> {
    /// Converts `node`, found at JSON pointer `path`, recording `path` on line `at` (the node's
    /// own line unless given); `path` is restored before returning.
    fn convert(
        &mut self,
        node: &MarkedYaml<'_>,
        path: &mut String,
        at: Option<u32>,
    ) -> Result<Value, ParseError> {
        let line = line_of(node);
        if self.depth >= MAX_DEPTH {
            return Err(self.error(
                line,
                format!("the template nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        self.lines.insert(path.clone(), at.unwrap_or(line));
        let converted = self.convert_node(node, line, path);
        self.depth -= 1;
        converted
    }

    fn convert_node(
        &mut self,
        node: &MarkedYaml<'_>,
        line: u32,
        path: &mut String,
    ) -> Result<Value, ParseError> {
        match &node.data {
            YamlData::Value(scalar) => self.scalar(scalar, line),
            YamlData::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    pointer::push_index(path, i);
                    out.push(self.convert(item, path, None)?);
                    path.truncate(len);
                }
                Ok(Value::Array(out))
            }
            YamlData::Mapping(entries) => {
                let mut out = Map::new();
                for (key, value) in entries.iter() {
                    let name = self.key(key)?;
                    let len = path.len();
                    pointer::push_key(path, &name);
                    // The key's line, not the value's: for `Vpc:` followed by a block, the
                    // logical id's line is the one a reader looks for.
                    let converted = self.convert(value, path, Some(line_of(key)))?;
                    path.truncate(len);
                    out.insert(name, converted);
                }
                Ok(Value::Object(out))
            }
            // The non-specific tag `!` alone: the node unresolved, a scalar a string as written.
            YamlData::Tagged(tag, inner) if tag.handle.is_empty() && tag.suffix == "!" => {
                self.convert_tagged(node, inner, path, line)
            }
            YamlData::Tagged(tag, inner) => {
                if tag.handle != "!" {
                    return Err(
                        self.error(line, format!("unknown tag '{}{}'", tag.handle, tag.suffix))
                    );
                }
                let Some(key) = intrinsics::long_form_key(&tag.suffix) else {
                    return self.unknown_tag(&tag.suffix, node, inner, line, path);
                };
                let len = path.len();
                pointer::push_key(path, key);
                // Content of a scalar tag carries no position of its own; it sits on the tag's line.
                let content = self.convert_tagged(node, inner, path, line);
                path.truncate(len);
                intrinsics::expand(&tag.suffix, content?)
                    .map_err(|e| self.error(line, e.to_string()))
            }
            YamlData::Representation(..) | YamlData::Alias(_) | YamlData::BadValue => {
                Err(self.error(line, "value cannot be read (bad tag or alias)".into()))
            }
        }
    }

    /// A tag CloudFormation does not know (`!Rain::Embed file.js`): read as `{"Fn::Rain::Embed":
    /// "file.js"}`, as other linters read it, and recorded so validation reports it as an error.
    fn unknown_tag(
        &mut self,
        suffix: &str,
        node: &MarkedYaml<'_>,
        inner: &MarkedYaml<'_>,
        line: u32,
        path: &mut String,
    ) -> Result<Value, ParseError> {
        self.unknown_tags.push(UnknownTag {
            line,
            tag: format!("!{suffix}"),
        });
        let key = format!("Fn::{suffix}");
        let len = path.len();
        pointer::push_key(path, &key);
        let content = self.convert_tagged(node, inner, path, line);
        path.truncate(len);
        let mut wrapped = Map::new();
        wrapped.insert(key, content?);
        Ok(Value::Object(wrapped))
    }

    /// The content of a `!` tag. A tagged scalar is a string as written, never a number, boolean
    /// or null: libyaml resolves only untagged plain scalars, so `!Ref 1` names "1" and an empty
    /// `!Equals` holds "".
    fn convert_tagged(
        &mut self,
        node: &MarkedYaml<'_>,
        inner: &MarkedYaml<'_>,
        path: &mut String,
        line: u32,
    ) -> Result<Value, ParseError> {
        match &inner.data {
            YamlData::Value(Scalar::String(_)) | YamlData::Value(_) if !is_resolved(inner) => {
                self.convert(inner, path, Some(line))
            }
            YamlData::Value(_) => {
                self.lines.insert(path.clone(), line);
                Ok(Value::String(
                    self.source.tagged_text(node, inner).to_string(),
                ))
            }
            _ => self.convert(inner, path, Some(line)),
        }
    }

    fn scalar(&self, scalar: &Scalar<'_>, line: u32) -> Result<Value, ParseError> {
        Ok(match scalar {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(*b),
            Scalar::Integer(i) => Value::Number((*i).into()),
            Scalar::FloatingPoint(f) => Number::from_f64(f.0)
                .map(Value::Number)
                .ok_or_else(|| self.error(line, format!("{} has no JSON form", f.0)))?,
            Scalar::String(s) => Value::String(s.to_string()),
        })
    }

    /// Mapping keys become JSON object keys: plain scalars are written as they read.
    fn key(&self, key: &MarkedYaml<'_>) -> Result<String, ParseError> {
        match &key.data {
            YamlData::Value(Scalar::String(s)) => Ok(s.to_string()),
            YamlData::Value(Scalar::Integer(i)) => Ok(i.to_string()),
            YamlData::Value(Scalar::Boolean(b)) => Ok(b.to_string()),
            YamlData::Value(Scalar::FloatingPoint(f)) => Ok(f.0.to_string()),
            // cfn-lint refuses them, and no CloudFormation section has a use for one.
            YamlData::Value(Scalar::Null) => {
                Err(self.error(line_of(key), "a mapping key cannot be null".into()))
            }
            _ => Err(self.error(line_of(key), "mapping keys must be plain scalars".into())),
        }
    }

    fn error(&self, line: u32, message: String) -> ParseError {
        error_at(self.source_name, Some(line), message)
    }
}

/// The first line (1-based) on which a block node could start beyond `MAX_BLOCK_COLUMN`: the
/// run of indentation, indicators (`- `, `? `, `: `), node properties (tags, anchors) and byte
/// order marks that opens the line bounds the column of every node starting on it.
fn first_line_too_deep(body: &str) -> Option<u32> {
    for (index, line) in body.split(['\n', '\r']).enumerate() {
        let mut column = 0;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' | '\u{feff}' | '-' | '?' | ':' => column += 1,
                '!' | '&' => {
                    column += 1 + chars.by_ref().take_while(|c| !c.is_whitespace()).count();
                }
                _ => break,
            }
            if column > MAX_BLOCK_COLUMN {
                return Some(to_u32(index + 1));
            }
        }
    }
    None
}

fn error_at(source_name: &str, line: Option<u32>, message: String) -> ParseError {
    ParseError {
        source_name: source_name.to_string(),
        line,
        column: None,
        message,
    }
}

/// A scalar the reader resolved to something other than a string.
fn is_resolved(node: &MarkedYaml<'_>) -> bool {
    matches!(node.data, YamlData::Value(ref s) if !matches!(s, Scalar::String(_)))
}

/// The text the reader read, for slicing out a scalar as written: its spans count characters.
struct Source<'a> {
    text: &'a str,
    /// Byte offset of every character, built the first time a non-ASCII text is sliced.
    offsets: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        Source {
            text,
            offsets: std::cell::OnceCell::new(),
        }
    }

    /// The source of a tagged plain scalar that resolved to a number, boolean or null: the word
    /// after the tag (and any anchor), or nothing for a node the text leaves empty.
    fn tagged_text(&self, tagged: &MarkedYaml<'_>, node: &MarkedYaml<'_>) -> &'a str {
        let start = tagged.span.start.index();
        let start = if self.text.is_ascii() {
            start
        } else {
            let offsets = self
                .offsets
                .get_or_init(|| self.text.char_indices().map(|(i, _)| i).collect());
            offsets.get(start).copied().unwrap_or(self.text.len())
        };
        let mut rest = self.text.get(start..).unwrap_or("");
        while rest.starts_with(['!', '&']) {
            let property = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = rest[property..].trim_start_matches([' ', '\t']);
        }
        let word = &rest[..rest
            .find(|c: char| c.is_whitespace() || ",[]{}#".contains(c))
            .unwrap_or(rest.len())];
        let null = matches!(node.data, YamlData::Value(Scalar::Null));
        if null && !matches!(word, "~" | "null" | "Null" | "NULL") {
            return "";
        }
        word
    }
}

fn line_of(node: &MarkedYaml<'_>) -> u32 {
    to_u32(node.span.start.line())
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
