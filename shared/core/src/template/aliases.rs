//! Bounds what YAML aliases can expand to before the YAML reader expands them: it copies an
//! anchor's subtree per alias, and its own budget does not count tagged subtrees or keys.

/// Bytes of template text all aliases together may copy: far above any real template, far below
/// what exhausts a Lambda's memory.
const EXPANSION_BUDGET: usize = 1 << 20;

/// Why the aliases of a template are refused, and the line (1-based) of the alias that was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasError {
    pub line: u32,
    pub message: String,
}

/// Checks every `*alias` against the text of its `&anchor`'s node, overestimated from the text
/// alone (no quote or comment is trusted to hide an indicator): an anchor whose node holds an
/// alias could expand exponentially and is refused; otherwise the copies are summed.
pub fn check(body: &str) -> Result<(), AliasError> {
    let tokens = indicators(body);
    if !tokens.iter().any(|t| t.alias) {
        return Ok(());
    }
    let lines = Lines::of(body);
    let alias_at: Vec<usize> = tokens.iter().filter(|t| t.alias).map(|t| t.at).collect();
    let mut copied = 0usize;
    for (i, alias) in tokens.iter().enumerate().filter(|(_, t)| t.alias) {
        // A name can be anchored again: any earlier anchor of it may be the one meant.
        let anchors = tokens[..i]
            .iter()
            .filter(|t| !t.alias && t.name == alias.name);
        let mut largest = 0;
        for anchor in anchors {
            let (start, end) = lines.extent(body, anchor.at);
            let first = alias_at.partition_point(|at| *at < start);
            if alias_at.get(first).is_some_and(|at| *at < end) {
                return Err(AliasError {
                    line: lines.line_of(alias.at),
                    message: format!(
                        "alias *{} names a node that itself holds aliases, which could expand without bound",
                        alias.name
                    ),
                });
            }
            largest = largest.max(end - start);
        }
        copied = copied.saturating_add(largest);
        if copied > EXPANSION_BUDGET {
            return Err(AliasError {
                line: lines.line_of(alias.at),
                message: format!(
                    "aliases copy more than {} KiB of the template",
                    EXPANSION_BUDGET / 1024
                ),
            });
        }
    }
    Ok(())
}

/// An `&anchor` or `*alias` indicator: where it starts and the name it carries.
struct Indicator<'a> {
    at: usize,
    alias: bool,
    name: &'a str,
}

fn indicators(body: &str) -> Vec<Indicator<'_>> {
    let bytes = body.as_bytes();
    let mut found = Vec::new();
    for (at, &b) in bytes.iter().enumerate() {
        if b != b'&' && b != b'*' {
            continue;
        }
        // An indicator starts a node: after a line start, whitespace or a flow or block indicator.
        let starts_node = at == 0
            || matches!(
                bytes[at - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':' | b'-' | b'?'
            );
        let rest = &body[at + 1..];
        let len = rest
            .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
            .unwrap_or(rest.len());
        if starts_node && len > 0 {
            found.push(Indicator {
                at,
                alias: b == b'*',
                name: &rest[..len],
            });
        }
    }
    found
}

/// Line starts and indentation, for reading a node's extent off the text.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn of(body: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            body.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { starts }
    }

    fn index_of(&self, at: usize) -> usize {
        self.starts.partition_point(|s| *s <= at) - 1
    }

    fn line_of(&self, at: usize) -> u32 {
        u32::try_from(self.index_of(at) + 1).unwrap_or(u32::MAX)
    }

    fn text<'b>(&self, body: &'b str, index: usize) -> &'b str {
        let end = self.starts.get(index + 1).map_or(body.len(), |s| s - 1);
        &body[self.starts[index]..end.max(self.starts[index])]
    }

    /// The byte range the node anchored at `at` can span, never less than it does: the rest of
    /// its line, then every line indented deeper (or, for a mapping value, a `- ` entry at the
    /// same indentation). A flow collection left open on the line runs to the end of the text.
    fn extent(&self, body: &str, at: usize) -> (usize, usize) {
        let index = self.index_of(at);
        let line = self.text(body, index);
        let indent = indentation(line);
        let column = at - self.starts[index];
        let after = &line[column..];
        let opened = after.matches(['[', '{']).count();
        let closed = after.matches([']', '}']).count();
        if opened > closed {
            return (at, body.len());
        }
        let mapping_value = line[..column].trim_end().ends_with(':')
            && after
                .split_whitespace()
                .nth(1)
                .is_none_or(|t| t.starts_with('#'));
        let mut end = self.starts.get(index + 1).map_or(body.len(), |s| *s);
        for next in index + 1..self.starts.len() {
            let text = self.text(body, next);
            let deeper = text.trim().is_empty()
                || indentation(text) > indent
                || (mapping_value
                    && indentation(text) == indent
                    && text.trim_start().starts_with('-'));
            if !deeper {
                break;
            }
            end = self.starts.get(next + 1).map_or(body.len(), |s| *s);
        }
        (at, end)
    }
}

fn indentation(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ').count()
}
