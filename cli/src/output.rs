//! How results are shown: aligned tables for people, JSON for scripts. Text for people passes
//! through `inert` here, so nothing a record, template or AWS says can drive the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Prints `value` as pretty JSON: exact data (serde escapes control characters itself).
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `text` safe to show on a terminal as one line: line breaks and tabs become spaces, so a value
/// cannot break a table's layout or forge a line of its own; every other control character
/// (C0, DEL, C1 — the ESC, CSI and OSC that start escape sequences — and the bidirectional
/// overrides that reorder what is shown) is written out as `\u{…}`, so an attempt stays visible
/// to whoever reads the output instead of acting on their terminal.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| breaks_line(c) || acts_on_terminal(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if breaks_line(c) {
            out.push(' ');
        } else if acts_on_terminal(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn breaks_line(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn acts_on_terminal(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Set while a command assembles one JSON document for stdout (`promote --all --output json`):
/// what its steps print for people goes to stderr meanwhile, so stdout stays one document.
static PEOPLE_TO_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sends lines and tables meant for people to stderr (`true`) or back to stdout.
pub fn people_to_stderr(on: bool) {
    PEOPLE_TO_STDERR.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn write_for_people(line: &str) {
    if PEOPLE_TO_STDERR.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// Prints one line for people on stdout, made inert.
pub fn print_line(line: impl AsRef<str>) {
    write_for_people(&inert(line.as_ref()));
}

/// Prints one line of progress or notes on stderr, made inert (over the spinner, if one shows).
pub fn eprint_line(line: impl AsRef<str>) {
    let clear = if SPINNER_SHOWN.swap(false, std::sync::atomic::Ordering::Relaxed) {
        CLEAR_LINE
    } else {
        ""
    };
    eprintln!("{clear}{}", inert(line.as_ref()));
}

/// Back to the start of the line, and erase it.
const CLEAR_LINE: &str = "\r\x1b[2K";
const SPINNER_FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// Whether the spinner's line is on screen (the next line written replaces it).
static SPINNER_SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A spinner on stderr's last line while a command waits, only when stderr is a terminal (and
/// not a dumb one): piped or logged, the output stays plain lines.
pub struct Spinner {
    on: bool,
    frame: usize,
}

impl Spinner {
    pub fn new() -> Spinner {
        use std::io::IsTerminal;
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Spinner {
            on: std::io::stderr().is_terminal() && !dumb,
            frame: 0,
        }
    }

    /// Draws the next frame with `text` (what is being waited for).
    pub fn tick(&mut self, text: &str) {
        if !self.on {
            return;
        }
        eprint!("{}", spinner_line(self.frame, text));
        std::io::stderr().flush().ok();
        SPINNER_SHOWN.store(true, std::sync::atomic::Ordering::Relaxed);
        self.frame += 1;
    }

    /// Erases the spinner's line.
    pub fn clear(&mut self) {
        if SPINNER_SHOWN.swap(false, std::sync::atomic::Ordering::Relaxed) {
            eprint!("{CLEAR_LINE}");
            std::io::stderr().flush().ok();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Frame `frame` of the spinner with its text, drawn over the current line.
fn spinner_line(frame: usize, text: &str) -> String {
    format!(
        "{CLEAR_LINE}{} {}",
        SPINNER_FRAMES[frame % SPINNER_FRAMES.len()],
        inert(text)
    )
}

/// Asks on stderr, leaving the cursor on the line for the answer.
pub fn prompt(question: impl AsRef<str>) {
    eprint!("{}", inert(question.as_ref()));
    std::io::stderr().flush().ok();
}

/// Asks `question` in a terminal and returns the answer line, without its line end. Without a
/// terminal there is nobody to answer: the error tells how to answer (`how`) or to pass --yes.
pub fn answer(question: impl AsRef<str>, how: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!("confirmation needed: run in a terminal and {how}, or pass --yes");
    }
    prompt(question);
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| anyhow::anyhow!("read confirmation: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// A table with a header row, columns padded to their widest cell; every cell made inert.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    for line in table_lines(headers, rows) {
        write_for_people(&line);
    }
}

fn table_lines(headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let headers: Vec<Cow<'_, str>> = headers.iter().map(|h| inert(h)).collect();
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|c| inert(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &[Cow<'_, str>]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut lines = vec![
        line(&headers),
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    ];
    lines.extend(rows.iter().map(|row| line(row)));
    if rows.is_empty() {
        lines.push("(none)".into());
    }
    lines
}

/// A cell for an optional value.
pub fn cell(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_spinner_redraws_its_line_cycling_frames_and_keeps_text_inert() {
        let first = spinner_line(0, "Wait for approval (3s)");
        assert_eq!(first, "\r\x1b[2K⠋ Wait for approval (3s)");
        assert!(spinner_line(1, "x").contains('⠙'));
        assert_eq!(spinner_line(10, "x"), spinner_line(0, "x"));
        let hostile = spinner_line(0, "stack\x1b]0;owned\x07\nnext");
        assert_eq!(
            hostile.matches('\x1b').count(),
            1,
            "only the clear: {hostile:?}"
        );
        assert!(!hostile.contains('\n'));
    }

    use super::*;

    /// An approver name as an approval link could send it: clear the screen, home the cursor,
    /// write a reassuring line, retitle the window.
    const HOSTILE: &str = "Eve\x1b[2J\x1b[1;1HAll good\x1b]0;owned\x07";

    fn has_terminal_control(text: &str) -> bool {
        text.chars().any(|c| c.is_control())
    }

    #[test]
    fn hostile_approver_renders_in_a_table_without_escape_or_bell() {
        let rows = vec![vec!["dev-vpc-1".to_string(), HOSTILE.to_string()]];
        let lines = table_lines(&["Deployment", "Approver"], &rows);
        assert_eq!(lines.len(), 3, "{lines:?}");
        for line in &lines {
            assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line:?}");
        }
        assert_eq!(
            lines[2],
            r"dev-vpc-1  | Eve\u{1b}[2J\u{1b}[1;1HAll good\u{1b}]0;owned\u{7}"
        );
    }

    #[test]
    fn hostile_text_in_a_line_is_written_out_not_sent_to_the_terminal() {
        let line = inert(HOSTILE);
        assert!(!has_terminal_control(&line), "{line:?}");
        assert_eq!(line, r"Eve\u{1b}[2J\u{1b}[1;1HAll good\u{1b}]0;owned\u{7}");
    }

    #[test]
    fn tabs_and_line_breaks_in_a_cell_keep_the_row_on_one_line_and_aligned() {
        let rows = vec![
            vec!["a\tb\nc\r\nd".to_string(), "x".to_string()],
            vec!["e\u{2028}f\u{85}g".to_string(), "y".to_string()],
        ];
        let lines = table_lines(&["Reason", "Next"], &rows);
        assert_eq!(
            lines,
            [
                "Reason   | Next",
                "---------+-----",
                "a b c  d | x",
                "e f g    | y",
            ]
        );
    }

    #[test]
    fn c1_del_and_bidirectional_overrides_are_written_out() {
        // CSI as one C1 byte, DEL, a right-to-left override and an isolate.
        let line = inert("a\u{9b}31mb\u{7f}c\u{202e}d\u{2066}e");
        assert!(!has_terminal_control(&line), "{line:?}");
        assert_eq!(line, r"a\u{9b}31mb\u{7f}c\u{202e}d\u{2066}e");
    }

    #[test]
    fn ordinary_text_is_shown_as_it_is() {
        let text = "vpc.VpcId ← subnets ✓ Zoë: CREATE_FAILED (Résumé) – 100 %";
        assert!(matches!(inert(text), Cow::Borrowed(t) if t == text));
    }

    /// Every line a command shows goes through this module: a `println!` with arguments in a
    /// command would print record data raw again.
    #[test]
    fn commands_print_text_only_through_this_module() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let source = std::fs::read_to_string(&path).expect("a readable source file");
            for (number, line) in source.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                let raw = code.contains("print!(")
                    || code.contains("eprintln!(")
                    || code.replace("println!()", "").contains("println!(");
                assert!(
                    !raw,
                    "{}:{}: print through crate::output (print_line, eprint_line, print_table): {code}",
                    path.display(),
                    number + 1
                );
            }
        }
    }
}
