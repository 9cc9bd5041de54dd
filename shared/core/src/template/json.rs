//! Reads a JSON template: serde_json for the value and its syntax errors, then one pass over the
//! (now known valid) text for the line of every node and for duplicate keys serde_json would hide.

use std::collections::HashSet;

use serde_json::Value;

use super::pointer::{self, LineMap};
use super::ParseError;

pub fn parse(source_name: &str, body: &str) -> Result<(Value, LineMap), ParseError> {
    let value: Value = serde_json::from_str(body).map_err(|e| ParseError {
        source_name: source_name.to_string(),
        line: Some(u32::try_from(e.line()).unwrap_or(u32::MAX)),
        column: Some(u32::try_from(e.column()).unwrap_or(u32::MAX)),
        message: e.to_string(),
    })?;
    let mut scanner = Scanner {
        bytes: body.as_bytes(),
        pos: 0,
        line: 1,
        lines: LineMap::new(),
    };
    let mut path = String::new();
    scanner
        .value(&mut path)
        .map_err(|(line, message)| ParseError {
            source_name: source_name.to_string(),
            line: Some(line),
            column: None,
            message,
        })?;
    Ok((value, scanner.lines))
}

/// Walks valid JSON text. Errors are (line, message); on text serde_json accepted, only
/// duplicate keys (or a scanner bug, reported rather than panicking) produce one.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    lines: LineMap,
}

type ScanResult<T> = Result<T, (u32, String)>;

impl Scanner<'_> {
    fn value(&mut self, path: &mut String) -> ScanResult<()> {
        self.skip_whitespace();
        self.lines.entry(path.clone()).or_insert(self.line);
        match self.peek() {
            Some(b'{') => self.object(path),
            Some(b'[') => self.array(path),
            Some(b'"') => self.string().map(|_| ()),
            Some(_) => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace() {
                        break;
                    }
                    self.pos += 1;
                }
                Ok(())
            }
            None => Err(self.unexpected()),
        }
    }

    fn object(&mut self, path: &mut String) -> ScanResult<()> {
        self.pos += 1;
        let mut seen = HashSet::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b',') => self.pos += 1,
                Some(b'"') => {
                    let key_line = self.line;
                    let key = self.string()?;
                    if !seen.insert(key.clone()) {
                        return Err((key_line, format!("duplicate key '{key}'")));
                    }
                    self.skip_whitespace();
                    if self.peek() != Some(b':') {
                        return Err(self.unexpected());
                    }
                    self.pos += 1;
                    let len = path.len();
                    pointer::push_key(path, &key);
                    self.lines.insert(path.clone(), key_line);
                    self.value(path)?;
                    path.truncate(len);
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn array(&mut self, path: &mut String) -> ScanResult<()> {
        self.pos += 1;
        let mut index = 0;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b',') => self.pos += 1,
                Some(_) => {
                    let len = path.len();
                    pointer::push_index(path, index);
                    self.value(path)?;
                    path.truncate(len);
                    index += 1;
                }
                None => return Err(self.unexpected()),
            }
        }
    }

    /// Reads a string literal and returns it decoded (keys may contain escapes).
    fn string(&mut self) -> ScanResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => escaped = true,
                b'"' => {
                    let raw = &self.bytes[start..self.pos];
                    if !escaped {
                        return Ok(String::from_utf8_lossy(&raw[1..raw.len() - 1]).into_owned());
                    }
                    return serde_json::from_slice(raw).map_err(|e| (self.line, e.to_string()));
                }
                _ => {}
            }
            if b == b'\\' {
                // Skip the escaped character so `\"` does not end the string.
                self.pos += 1;
            }
        }
        Err(self.unexpected())
    }

    fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek() {
            if !b.is_ascii_whitespace() {
                break;
            }
            if b == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn unexpected(&self) -> (u32, String) {
        (self.line, format!("unexpected input at byte {}", self.pos))
    }
}
