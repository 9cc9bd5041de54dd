//! What people type into an approval — a name on the link's page, a comment with a decision — as
//! it is recorded: one printable line, bounded, whatever channel it came through.

pub const MAX_APPROVER_LEN: usize = 100;
pub const MAX_COMMENT_LEN: usize = 500;

/// The name an approver typed, trimmed, if it is one: at most `MAX_APPROVER_LEN` characters and
/// nothing that acts on a terminal or reorders text where the name is shown again (CLI tables,
/// the approval message, the audit trail).
pub fn approver_name(typed: &str) -> Option<&str> {
    let name = typed.trim();
    let printable = !name.chars().any(is_control);
    (!name.is_empty() && printable && name.chars().count() <= MAX_APPROVER_LEN).then_some(name)
}

/// A comment as recorded: control characters (line breaks too) become spaces, so it stays one
/// line wherever it is shown; trimmed and cut to `MAX_COMMENT_LEN` characters; none when empty.
pub fn comment_text(typed: &str) -> Option<String> {
    let spaced: String = typed
        .chars()
        .map(|c| if is_control(c) { ' ' } else { c })
        .collect();
    let comment = spaced.trim();
    (!comment.is_empty()).then(|| comment.chars().take(MAX_COMMENT_LEN).collect())
}

/// C0, DEL and C1 (ESC starts terminal escape sequences) and the bidirectional formatting
/// characters that make text read other than it is stored.
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_is_cut_to_its_bound_and_an_empty_one_is_none() {
        assert_eq!(
            comment_text(&"x".repeat(MAX_COMMENT_LEN + 10)).map(|c| c.chars().count()),
            Some(MAX_COMMENT_LEN)
        );
        assert_eq!(comment_text(" \r\n\u{7} "), None);
    }
}
