//! Reads a YAML template's layout as libyaml (CloudFormation's and cfn-lint's reader) does before
//! the strict YAML 1.2 reader sees it: what libyaml accepts is re-laid, what it refuses is refused.
//!
//! libyaml does not check the indentation of lines inside flow collections (`{`, `[`) or inside
//! quoted scalars: a JSON policy whose closing brace sits under its key, or a quoted string
//! continued at its key's column, is read as written. There indentation carries no meaning (a
//! folded line loses its leading white space), so such continuation lines are given the leading
//! spaces YAML 1.2 wants; nothing else changes and every node stays on its line. The same pass
//! refuses what libyaml refuses and YAML 1.2 would read: characters outside YAML's printable set,
//! tabs in the indentation of a plain scalar's continuation line, anchors named twice, and
//! anchor names beyond letters, digits, `-` and `_`.

use std::borrow::Cow;
use std::collections::HashSet;

/// The template as the strict reader should see it, and where spaces were put in.
#[derive(Debug)]
pub struct Relaid<'a> {
    pub text: Cow<'a, str>,
    /// (1-based line, spaces added at its start), in line order: to report columns as written.
    pub padding: Vec<(u32, u32)>,
}

impl Relaid<'_> {
    /// The column (1-based) a reader of `text` reported on `line`, as it is in the original.
    pub fn original_column(&self, line: u32, column: u32) -> u32 {
        match self.padding.binary_search_by_key(&line, |(l, _)| *l) {
            Ok(i) => column.saturating_sub(self.padding[i].1).max(1),
            Err(_) => column,
        }
    }
}

/// What libyaml refuses, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    pub line: u32,
    pub message: String,
}

/// Re-lays `body` (see the module's comment), or says why libyaml would not read it.
pub fn relay(body: &str) -> Result<Relaid<'_>, LayoutError> {
    check_characters(body)?;
    let mut scanner = Scanner::new(body);
    scanner.run()?;
    let padding = scanner.padding;
    if scanner.edits.is_empty() {
        return Ok(Relaid {
            text: Cow::Borrowed(body),
            padding,
        });
    }
    let mut text = String::with_capacity(body.len() + 256);
    let mut copied = 0;
    for (at, len, with) in scanner.edits {
        text.push_str(&body[copied..at]);
        text.push_str(with);
        text.extend(std::iter::repeat_n(' ', len.0));
        copied = at + len.1;
    }
    text.push_str(&body[copied..]);
    Ok(Relaid {
        text: Cow::Owned(text),
        padding,
    })
}

/// libyaml reads only YAML's printable characters: tab, line breaks, and the rest of Unicode
/// but for the C0 and C1 controls, DEL, surrogates and U+FFFE/U+FFFF.
fn check_characters(body: &str) -> Result<(), LayoutError> {
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            || c >= '\u{10000}'
    };
    if body
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Ok(());
    }
    match body
        .char_indices()
        .find(|(_, c)| !printable(*c) || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
    {
        None => Ok(()),
        // libyaml breaks lines at these (YAML 1.1) where YAML 1.2 reads them as text: rather than
        // read such a template differently, it is refused.
        Some((at, c)) if c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' => Err(LayoutError {
            line: line_of(body, at),
            message: format!(
                "line separator #x{:04x}: libyaml breaks the line there, YAML 1.2 does not; write it escaped (\\u{:04x}) in a double-quoted string",
                u32::from(c),
                u32::from(c)
            ),
        }),
        Some((at, c)) => Err(LayoutError {
            line: line_of(body, at),
            message: format!(
                "unacceptable character #x{:04x}: control characters are not allowed",
                u32::from(c)
            ),
        }),
    }
}

fn line_of(body: &str, at: usize) -> u32 {
    let before = &body.as_bytes()[..at];
    let breaks = before
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && before.get(i + 1) != Some(&b'\n')))
        .count();
    u32::try_from(breaks + 1).unwrap_or(u32::MAX)
}

/// A token-level reading of the layout: only what decides where flow collections, quoted and
/// plain scalars, block scalars and comments begin and end.
struct Scanner<'a> {
    body: &'a str,
    src: &'a [u8],
    /// Byte offset of the line being read, its 1-based number.
    line_start: usize,
    line: u32,
    /// Columns of the open block collections (a key's or a `-`'s column), innermost last: the
    /// block indentation libyaml compares continuation lines with.
    blocks: Vec<usize>,
    flow_depth: usize,
    /// Inside a quoted scalar: its quote.
    quote: Option<u8>,
    /// Where continuation lines of the flow node or quoted scalar opened in block context must
    /// at least start, and the block indentation around it.
    target: usize,
    owner: isize,
    /// A plain scalar ran to the end of the previous line and may continue on this one.
    plain_open: bool,
    /// The previous line ended where a node may start (after `[`, `,` or `:` in a flow node).
    node_start: bool,
    /// Content lines of a block scalar follow: lines indented deeper than this column, and the
    /// content's indentation once its first line has set it.
    block_scalar: Option<(isize, Option<isize>)>,
    /// A line other than a comment or a document marker has been read.
    seen_content: bool,
    /// A document end marker (`...`) has been read.
    ended: bool,
    anchors: HashSet<&'a str>,
    /// Edits in text order: at a byte offset, (spaces to write, bytes they replace) after a
    /// fixed text.
    edits: Vec<(usize, (usize, usize), &'static str)>,
    /// A block scalar's header: the offset just after its `|` or `>` and chomping indicator.
    block_header: Option<(usize, Option<u8>)>,
    /// The last line read was a block scalar's content.
    in_block_content: bool,
    /// The line of the node before a `:` in a flow node (libyaml's simple keys are one line),
    /// from its first property (anchor or tag) on.
    token_line: u32,
    property_line: Option<u32>,
    padding: Vec<(u32, u32)>,
}

/// Where a line's reading is, byte by byte.
struct Cursor {
    at: usize,
    col: usize,
    /// The next token starts a node (a quote or bracket there opens a scalar or collection).
    node_start: bool,
    /// Inside a plain scalar that began on this line or continues from the previous one.
    in_plain: bool,
    /// Column where the current node began, for the key column of `key: value`.
    token_col: usize,
    /// The previous character was white space or the line's start.
    after_space: bool,
    /// The last token was a quoted scalar or a flow collection (JSON-like: `"a":b` is a pair).
    json_like: bool,
}

impl<'a> Scanner<'a> {
    fn new(body: &'a str) -> Self {
        Scanner {
            body,
            src: body.as_bytes(),
            line_start: 0,
            line: 1,
            blocks: Vec::new(),
            flow_depth: 0,
            quote: None,
            target: 0,
            owner: -1,
            plain_open: false,
            node_start: true,
            block_scalar: None,
            seen_content: false,
            ended: false,
            anchors: HashSet::new(),
            edits: Vec::new(),
            block_header: None,
            in_block_content: false,
            token_line: 1,
            property_line: None,
            padding: Vec::new(),
        }
    }

    fn block_indent(&self) -> isize {
        self.blocks.last().map_or(-1, |c| *c as isize)
    }

    fn run(&mut self) -> Result<(), LayoutError> {
        while self.line_start <= self.src.len() {
            let end = self.src[self.line_start..]
                .iter()
                .position(|b| *b == b'\n' || *b == b'\r')
                .map_or(self.src.len(), |p| self.line_start + p);
            self.read_line(end)?;
            if end >= self.src.len() {
                self.unbroken_block_scalar_end();
                break;
            }
            let next = if self.src[end] == b'\r' && self.src.get(end + 1) == Some(&b'\n') {
                end + 2
            } else {
                end + 1
            };
            self.line_start = next;
            self.line += 1;
        }
        Ok(())
    }

    fn read_line(&mut self, end: usize) -> Result<(), LayoutError> {
        let line = &self.src[self.line_start..end];
        let spaces = line.iter().take_while(|b| **b == b' ').count();
        let lead = line
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let blank = lead == line.len();
        if let Some((owner, indent)) = self.block_scalar {
            // libyaml refuses a tab where it still counts the content's indentation.
            let tab_in_indent = line.get(spaces) == Some(&b'\t')
                && indent.is_none_or(|indent| (spaces as isize) < indent);
            if (blank || spaces as isize > owner) && tab_in_indent {
                return Err(self
                    .error("found a tab character where an indentation space is expected".into()));
            }
            if blank {
                // White space past the content's indentation is content (a last line of it).
                self.in_block_content =
                    indent.is_some_and(|indent| spaces as isize > indent && spaces == line.len());
                return Ok(());
            }
            // Once the first line has set the content's indentation, a line indented less
            // ends the scalar.
            if spaces as isize > owner && indent.is_none_or(|indent| spaces as isize >= indent) {
                self.block_scalar = Some((owner, Some(indent.unwrap_or(spaces as isize))));
                self.in_block_content = true;
                return Ok(());
            }
            self.block_scalar = None;
        }
        self.in_block_content = false;
        let continuing = self.quote.is_some() || self.flow_depth > 0;
        let comment = line.get(lead) == Some(&b'#');
        let end_marker =
            line.starts_with(b"...") && line.get(3).is_none_or(|b| matches!(b, b' ' | b'\t'));
        if self.ended && !blank && !comment && !end_marker {
            return Err(self.error("found content after the document end marker '...'".into()));
        }
        if self.plain_open {
            let owner = if continuing {
                self.owner
            } else {
                self.block_indent()
            };
            self.check_tab_indentation(line, owner)?;
        }
        let marker = (line.starts_with(b"---") || line.starts_with(b"..."))
            && line.get(3).is_none_or(|b| *b == b' ' || *b == b'\t');
        if !continuing && !self.plain_open && line[..lead].contains(&b'\t') {
            // At a block line's start libyaml takes no tab, even before a comment.
            return Err(self.error("found character that cannot start any token".into()));
        }
        if blank {
            return Ok(());
        }
        if !continuing && marker && line.starts_with(b"...") {
            // A document's end: only comments and end markers may follow (a second document is
            // refused anyway), and libyaml refuses one before any document.
            if !self.seen_content {
                return Err(self.error("did not find expected node content".into()));
            }
            self.ended = true;
            self.plain_open = false;
            return Ok(());
        }
        if !continuing && marker {
            // A document's start: what follows on its line is a node in block context.
            self.plain_open = false;
            self.blocks.clear();
            let mut cursor = Cursor {
                at: self.line_start + 3,
                col: 3,
                node_start: true,
                in_plain: false,
                token_col: 3,
                after_space: true,
                json_like: false,
            };
            self.read_tokens(&mut cursor, end)?;
            self.plain_open = cursor.in_plain;
            self.node_start = cursor.node_start;
            return Ok(());
        }
        if !comment && !marker {
            self.seen_content = true;
        }
        let mut cursor = Cursor {
            at: self.line_start,
            col: 0,
            node_start: !continuing || self.node_start,
            in_plain: false,
            token_col: spaces,
            after_space: true,
            json_like: false,
        };
        if continuing {
            cursor.in_plain = self.plain_open;
            if !marker && spaces < self.target {
                self.pad(self.target - spaces);
            }
        } else if self.plain_open
            && lead as isize > self.block_indent()
            && line[lead] != b'#'
            && !marker
        {
            cursor.in_plain = true;
            cursor.node_start = false;
        }
        self.plain_open = false;
        if !cursor.in_plain && !continuing {
            while self.blocks.last().is_some_and(|c| *c > spaces) {
                self.blocks.pop();
            }
        }
        self.read_tokens(&mut cursor, end)?;
        self.plain_open = cursor.in_plain;
        self.node_start = cursor.node_start;
        Ok(())
    }

    /// A block scalar whose last line ends the text without a line break: libyaml's value
    /// has no final line break whatever the chomping, YAML 1.2's keeps one unless stripped.
    fn unbroken_block_scalar_end(&mut self) {
        if !self.in_block_content || self.src.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            return;
        }
        if let Some((at, chomp)) = self.block_header {
            let edit = match chomp {
                Some(b'-') => return,
                Some(_) => (at - 1, (0, 1), "-"),
                None => (at, (0, 0), "-"),
            };
            let index = self.edits.partition_point(|e| e.0 <= edit.0);
            self.edits.insert(index, edit);
        }
    }

    /// libyaml refuses a tab in the leading white space of a plain scalar's continuation line
    /// left of the block indentation.
    fn check_tab_indentation(&self, line: &[u8], owner: isize) -> Result<(), LayoutError> {
        let tab = line
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .position(|b| *b == b'\t');
        match tab {
            Some(col) if (col as isize) < owner + 1 => {
                Err(self.error("found a tab character that violates indentation".into()))
            }
            _ => Ok(()),
        }
    }

    fn pad(&mut self, spaces: usize) {
        self.replace(self.line_start, 0, spaces);
        self.padding
            .push((self.line, u32::try_from(spaces).unwrap_or(u32::MAX)));
    }

    /// Writes `spaces` spaces in place of the `len` bytes at `at`.
    fn replace(&mut self, at: usize, len: usize, spaces: usize) {
        self.edits.push((at, (spaces, len), ""));
    }

    /// The white space after an indicator at `at`: libyaml takes tabs there after `:` (YAML
    /// 1.2 does not, in block context; as a space they mean the same) and refuses them after a
    /// block `-` or `?`.
    fn after_indicator(&mut self, at: usize, end: usize) -> Result<(), LayoutError> {
        let run = self.src[at + 1..end]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let tabs = self.src[at + 1..at + 1 + run]
            .iter()
            .filter(|b| **b == b'\t')
            .count();
        if tabs == 0 {
            return Ok(());
        }
        if self.src[at] != b':' {
            return Err(self.error("found character that cannot start any token".into()));
        }
        for i in at + 1..at + 1 + run {
            if self.src[i] == b'\t' {
                self.replace(i, 1, 1);
            }
        }
        Ok(())
    }

    fn error(&self, message: String) -> LayoutError {
        LayoutError {
            line: self.line,
            message,
        }
    }

    fn read_tokens(&mut self, c: &mut Cursor, end: usize) -> Result<(), LayoutError> {
        while c.at < end {
            // Inside a quoted or plain scalar only a few bytes matter: skip the rest at once.
            let special: &[u8] = match self.quote {
                Some(b'"') => b"\"\\",
                Some(_) => b"'",
                None if c.in_plain && !c.node_start => b" \t#:,[]{}",
                None => b"",
            };
            if !special.is_empty() {
                let run = self.src[c.at..end]
                    .iter()
                    .position(|b| special.contains(b))
                    .unwrap_or(end - c.at);
                if run > 0 {
                    self.advance(c, run);
                    c.after_space = false;
                    continue;
                }
            }
            let b = self.src[c.at];
            let next = self.src.get(c.at + 1).copied().filter(|_| c.at + 1 < end);
            if let Some(quote) = self.quote {
                if b == b'\\' && quote == b'"' {
                    // An escaped character, or an escaped line break at the line's end.
                    self.advance(c, if next.is_some() { 2 } else { 1 });
                    continue;
                }
                if b == quote {
                    if quote == b'\'' && next == Some(b'\'') {
                        self.advance(c, 2);
                        continue;
                    }
                    self.quote = None;
                    c.json_like = true;
                    c.after_space = false;
                }
                self.advance(c, 1);
                continue;
            }
            let flow = self.flow_depth > 0;
            let blank_next = next.is_none_or(|n| n == b' ' || n == b'\t');
            match b {
                b' ' | b'\t' => {
                    c.after_space = true;
                    self.advance(c, 1);
                    continue;
                }
                b'#' if c.after_space || !c.in_plain => {
                    if !c.after_space {
                        // libyaml takes `"a"#c` and `[a,#c]` as a value and a comment.
                        self.edits.push((c.at, (1, 0), ""));
                    }
                    c.in_plain = false;
                    return Ok(());
                }
                _ => {}
            }
            if c.node_start {
                if self.node(c, b, blank_next, end)? {
                    return Ok(());
                }
                continue;
            }
            let flow_next = next.is_some_and(|n| b",[]{}".contains(&n));
            if flow && b == b':' && c.in_plain && next.is_some_and(|n| b",?[]{}".contains(&n)) {
                // libyaml: a plain scalar ends at `:` before a flow indicator, and no key may.
                return Err(self.error("found unexpected ':'".into()));
            }
            if b == b':' && (blank_next || (flow && (flow_next || c.json_like))) {
                if flow && self.token_line != self.line {
                    return Err(self.error("did not find expected ',' or '}'".into()));
                }
                self.after_indicator(c.at, end)?;
                self.value_indicator(c);
            } else if flow && b == b',' {
                self.property_line = None;
                c.in_plain = false;
                c.node_start = true;
            } else if flow && (b == b'[' || b == b'{') {
                self.flow_depth += 1;
                c.in_plain = false;
                c.node_start = true;
            } else if flow && (b == b']' || b == b'}') {
                self.close_flow(c);
            } else {
                c.in_plain = c.in_plain || !c.json_like;
            }
            c.after_space = false;
            self.advance(c, 1);
        }
        Ok(())
    }

    /// Reads the token that starts a node. True when the rest of the line is a block scalar's
    /// header.
    fn node(
        &mut self,
        c: &mut Cursor,
        b: u8,
        blank_next: bool,
        end: usize,
    ) -> Result<bool, LayoutError> {
        let flow = self.flow_depth > 0;
        c.after_space = false;
        c.json_like = false;
        match b {
            b'"' | b'\'' => {
                if !flow {
                    self.target = c.col + 1;
                    self.owner = self.block_indent();
                }
                self.quote = Some(b);
                c.token_col = c.col;
                self.token_line = self.property_line.take().unwrap_or(self.line);
                c.node_start = false;
            }
            b'[' | b'{' => {
                self.property_line = None;
                if !flow {
                    self.target = c.col + 1;
                    self.owner = self.block_indent();
                    c.token_col = c.col;
                }
                self.flow_depth += 1;
            }
            b']' | b'}' if flow => {
                self.close_flow(c);
                self.advance(c, 1);
                return Ok(false);
            }
            // An entry left empty, perhaps after a tag or anchor.
            b',' if flow => self.property_line = None,
            b'&' | b'*' => {
                let start = c.at + 1;
                let len = self.src[start..end]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
                    .count();
                let after = self
                    .src
                    .get(start + len)
                    .copied()
                    .filter(|_| start + len < end);
                let ends = after.is_none_or(|a| b" \t?:,]}".contains(&a));
                if len == 0 || !ends {
                    return Err(self.error(format!(
                        "while scanning an {}, did not find expected alphabetic or numeric character",
                        if b == b'&' { "anchor" } else { "alias" }
                    )));
                }
                let name = &self.body[start..start + len];
                if b == b'&' {
                    self.property_line.get_or_insert(self.line);
                }
                if b == b'&' && !self.anchors.insert(name) {
                    return Err(self.error(format!("found duplicate anchor {name:?}")));
                }
                if b == b'*' {
                    c.token_col = c.col;
                    self.token_line = self.property_line.take().unwrap_or(self.line);
                    c.node_start = false;
                }
                self.advance(c, 1 + len);
                return Ok(false);
            }
            b'!' => {
                let len = self.src[c.at..end]
                    .iter()
                    .take_while(|b| !(matches!(b, b' ' | b'\t') || flow && b",[]{}".contains(b)))
                    .count();
                // libyaml's tags are URI characters (`!GetAtt#` is no tag and a comment).
                let uri = |b: &u8| {
                    b.is_ascii_alphanumeric()
                        || b"-_;/?:@&=+$,.!~*'()[]%<>".contains(b)
                        || *b >= 0x80
                };
                if !self.src[c.at..c.at + len].iter().all(uri) {
                    return Err(self.error("did not find expected whitespace or line break".into()));
                }
                self.property_line.get_or_insert(self.line);
                self.advance(c, len);
                return Ok(false);
            }
            b'|' | b'>' if !flow => {
                self.block_scalar = Some((self.block_indent(), None));
                // The chomping indicator, if any, is among the two characters after `|`.
                let indicators = self.src[c.at + 1..end]
                    .iter()
                    .take(2)
                    .take_while(|b| b.is_ascii_digit() || **b == b'-' || **b == b'+')
                    .count();
                let chomp = self.src[c.at + 1..c.at + 1 + indicators]
                    .iter()
                    .find(|b| **b == b'-' || **b == b'+')
                    .copied();
                let after = match chomp {
                    Some(_) => {
                        c.at + 2
                            + self.src[c.at + 1..]
                                .iter()
                                .position(|b| Some(*b) == chomp)
                                .unwrap_or(0)
                    }
                    None => c.at + 1 + indicators,
                };
                self.block_header = Some((after, chomp));
                return Ok(true);
            }
            b'|' | b'>' => {
                return Err(self.error("found character that cannot start any token".into()));
            }
            b'-' | b'?' if blank_next => {
                if !flow {
                    self.push_block(c.col);
                    self.after_indicator(c.at, end)?;
                }
            }
            // libyaml takes no empty key in a flow node (`{: x}`, `[:x]`).
            b':' if flow => return Err(self.error("did not find expected node content".into())),
            b':' if blank_next => {
                self.after_indicator(c.at, end)?;
                self.value_indicator(c);
            }
            _ => {
                c.in_plain = true;
                c.token_col = c.col;
                self.token_line = self.property_line.take().unwrap_or(self.line);
                c.node_start = false;
            }
        }
        self.advance(c, 1);
        Ok(false)
    }

    fn value_indicator(&mut self, c: &mut Cursor) {
        self.property_line = None;
        if self.flow_depth == 0 {
            self.push_block(c.token_col);
        }
        c.in_plain = false;
        c.node_start = true;
        c.json_like = false;
    }

    fn close_flow(&mut self, c: &mut Cursor) {
        // A collection as a key is one line too (from its opening bracket, roughly).
        self.token_line = self.line;
        self.property_line = None;
        self.flow_depth = self.flow_depth.saturating_sub(1);
        c.in_plain = false;
        c.node_start = false;
        c.json_like = true;
    }

    fn push_block(&mut self, col: usize) {
        if self.blocks.last().is_none_or(|top| *top < col) {
            self.blocks.push(col);
        }
    }

    fn advance(&self, c: &mut Cursor, bytes: usize) {
        for b in &self.src[c.at..c.at + bytes] {
            // Columns count characters: UTF-8 continuation bytes add none.
            if b & 0xc0 != 0x80 {
                c.col += 1;
            }
        }
        c.at += bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relaid(body: &str) -> String {
        match relay(body) {
            Ok(r) => r.text.into_owned(),
            Err(e) => panic!("{body:?} should be re-laid: {e:?}"),
        }
    }

    #[test]
    fn flow_lines_at_or_under_the_key_are_indented_past_the_opening_bracket() {
        assert_eq!(
            relaid("A:\n  B: {\n  \"x\": 1,\n\"y\": [1,\n2]\n}\nC: 1\n"),
            "A:\n  B: {\n      \"x\": 1,\n      \"y\": [1,\n      2]\n      }\nC: 1\n"
        );
    }

    #[test]
    fn quoted_scalars_continued_under_their_key_are_indented_past_the_quote() {
        assert_eq!(
            relaid("A:\n  B: \"x \\\"#\n  y\"\n  C: 'it''s\nz' # c\n"),
            "A:\n  B: \"x \\\"#\n      y\"\n  C: 'it''s\n      z' # c\n"
        );
    }

    #[test]
    fn block_scalars_comments_and_well_indented_lines_are_left_alone() {
        let body = "A: |\n  [ \"x\n B: 1\n# [ '\nC: [a,   # ]\n    b]\nD: x # {\n";
        assert!(matches!(relay(body).map(|r| r.text), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn crlf_lines_keep_their_breaks() {
        assert_eq!(relaid("A: [a,\r\nb]\r\n"), "A: [a,\r\n    b]\r\n");
    }

    #[test]
    fn document_markers_inside_a_flow_node_are_not_hidden() {
        assert_eq!(relaid("A: [a,\n---\n]\n"), "A: [a,\n---\n    ]\n");
    }

    #[test]
    fn what_libyaml_refuses_is_refused_with_its_line() {
        let cases = [
            ("A: 1\nB: \"a\u{1}\"\n", 2, "control characters"),
            ("A: [a\n\tb]\n", 2, "tab character"),
            ("A:\n  B: a\n\tb\n", 3, "tab character"),
            ("A: &x 1\nB: &x 2\n", 2, "duplicate anchor"),
            ("A: &x.y 1\n", 1, "anchor"),
        ];
        for (body, line, message) in cases {
            let e = relay(body).expect_err(body);
            assert_eq!(e.line, line, "{body:?}: {e:?}");
            assert!(e.message.contains(message), "{body:?}: {e:?}");
        }
    }
}
