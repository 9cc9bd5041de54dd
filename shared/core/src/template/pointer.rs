//! JSON pointers (RFC 6901) into a template and the source line each one came from.
//! Guard reports findings as pointers; this is how they get back to a line.

use std::collections::HashMap;

/// JSON pointer → 1-based source line.
pub type LineMap = HashMap<String, u32>;

/// Appends `/key`, escaping `~` and `/` as RFC 6901 requires.
pub fn push_key(path: &mut String, key: &str) {
    path.push('/');
    if !key.contains(['~', '/']) {
        path.push_str(key);
        return;
    }
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

pub fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write;
    path.push('/');
    // Writing into a String cannot fail.
    let _ = write!(path, "{index}");
}

/// The pointer of a top-level section entry, e.g. `/Resources/Vpc`.
pub fn of(section: &str, key: &str) -> String {
    let mut path = String::new();
    push_key(&mut path, section);
    push_key(&mut path, key);
    path
}

/// Splits a pointer into its unescaped segments.
pub fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The line of `pointer`, or of its nearest ancestor that has one: guard points at the parent
/// of a missing property, and substituted values have no line of their own.
pub fn nearest_line(lines: &LineMap, pointer: &str) -> Option<u32> {
    let mut current = pointer;
    loop {
        if let Some(line) = lines.get(current) {
            return Some(*line);
        }
        let cut = current.rfind('/')?;
        current = &current[..cut];
    }
}
