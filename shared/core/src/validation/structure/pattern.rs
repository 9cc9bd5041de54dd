//! Just enough of regular expressions to tell whether a parameter's `Default` matches its
//! `AllowedPattern`; a pattern using anything else is not judged (no false findings).

/// Whether `pattern` matches all of `text`, as CloudFormation applies `AllowedPattern`; `None`
/// when the pattern uses syntax this reader does not know (look-arounds, back-references, …).
pub(super) fn full_match(pattern: &str, text: &str) -> Option<bool> {
    let mut parser = Parser {
        chars: pattern.chars().collect(),
        at: 0,
    };
    let node = parser.alternation()?;
    if parser.at != parser.chars.len() {
        return None;
    }
    let input: Vec<char> = text.chars().collect();
    let mut matcher = Matcher {
        input: &input,
        budget: 100_000,
    };
    let matched = matcher.matches(&node, 0, &mut |end, _| end == input.len());
    (matcher.budget > 0).then_some(matched)
}

#[derive(Debug)]
enum Node {
    Literal(char),
    Any,
    /// Inclusive ranges; `negated` inverts the class.
    Class(Vec<(char, char)>, bool),
    Start,
    End,
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat(Box<Node>, usize, Option<usize>),
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn alternation(&mut self) -> Option<Node> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.at += 1;
            branches.push(self.concat()?);
        }
        Some(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alternation(branches)
        })
    }

    fn concat(&mut self) -> Option<Node> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Some(Node::Concat(items))
    }

    fn atom(&mut self) -> Option<Node> {
        let c = self.peek()?;
        self.at += 1;
        Some(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.peek() == Some('?') {
                    // Only the non-capturing group `(?:…)` is known.
                    if self.chars.get(self.at + 1) != Some(&':') {
                        return None;
                    }
                    self.at += 2;
                }
                let inner = self.alternation()?;
                if self.peek() != Some(')') {
                    return None;
                }
                self.at += 1;
                inner
            }
            '[' => self.class()?,
            '\\' => self.escape()?,
            '*' | '+' | '?' | '{' | ')' => return None,
            c => Node::Literal(c),
        })
    }

    fn escape(&mut self) -> Option<Node> {
        let c = self.peek()?;
        self.at += 1;
        Some(match c {
            'd' | 'w' | 's' => Node::Class(shorthand(c), false),
            'D' | 'W' | 'S' => Node::Class(shorthand(c.to_ascii_lowercase()), true),
            'n' => Node::Literal('\n'),
            't' => Node::Literal('\t'),
            'r' => Node::Literal('\r'),
            c if c.is_ascii_alphanumeric() => return None,
            c => Node::Literal(c),
        })
    }

    fn class(&mut self) -> Option<Node> {
        let negated = self.peek() == Some('^');
        if negated {
            self.at += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek()?;
            self.at += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = if c == '\\' {
                let e = self.peek()?;
                self.at += 1;
                match e {
                    'd' | 'w' | 's' => {
                        ranges.extend(shorthand(e));
                        continue;
                    }
                    'n' => '\n',
                    't' => '\t',
                    e if e.is_ascii_alphanumeric() => return None,
                    e => e,
                }
            } else if c == '[' {
                // POSIX classes and nested sets are not known.
                return None;
            } else {
                c
            };
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.at + 1).is_some_and(|&n| n != ']');
            if is_range {
                self.at += 1;
                let mut high = self.peek()?;
                self.at += 1;
                if high == '\\' {
                    high = self.peek()?;
                    self.at += 1;
                    if high.is_ascii_alphanumeric() {
                        return None;
                    }
                }
                if high < low {
                    return None;
                }
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Some(Node::Class(ranges, negated))
    }

    fn quantified(&mut self, atom: Node) -> Option<Node> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                let close = self.chars[self.at..].iter().position(|&c| c == '}')? + self.at;
                let body: String = self.chars[self.at + 1..close].iter().collect();
                let (min, max) = match body.split_once(',') {
                    Some((min, "")) => (min.trim().parse().ok()?, None),
                    Some((min, max)) => (min.trim().parse().ok()?, Some(max.trim().parse().ok()?)),
                    None => {
                        let n = body.trim().parse().ok()?;
                        (n, Some(n))
                    }
                };
                self.at = close;
                (min, max)
            }
            _ => return Some(atom),
        };
        self.at += 1;
        // Lazy and possessive forms match the same whole strings.
        if matches!(self.peek(), Some('?' | '+')) {
            self.at += 1;
        }
        if matches!(atom, Node::Start | Node::End) {
            return None;
        }
        Some(Node::Repeat(Box::new(atom), min, max))
    }
}

fn shorthand(c: char) -> Vec<(char, char)> {
    match c {
        'd' => vec![('0', '9')],
        'w' => vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
        _ => vec![(' ', ' '), ('\t', '\r')],
    }
}

struct Matcher<'i> {
    input: &'i [char],
    /// Steps left; backtracking on a hostile pattern stops here instead of running on.
    budget: usize,
}

type Next<'k> = dyn FnMut(usize, &mut Matcher<'_>) -> bool + 'k;

impl Matcher<'_> {
    /// Whether `node` matches at `at` such that `next` accepts where it ends.
    fn matches(&mut self, node: &Node, at: usize, next: &mut Next<'_>) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        match node {
            Node::Literal(c) => self.input.get(at) == Some(c) && next(at + 1, self),
            Node::Any => self.input.get(at).is_some_and(|&c| c != '\n') && next(at + 1, self),
            Node::Class(ranges, negated) => {
                self.input.get(at).is_some_and(|&c| {
                    ranges.iter().any(|&(low, high)| low <= c && c <= high) != *negated
                }) && next(at + 1, self)
            }
            Node::Start => at == 0 && next(at, self),
            Node::End => at == self.input.len() && next(at, self),
            Node::Alternation(branches) => branches.iter().any(|b| self.matches(b, at, next)),
            Node::Concat(items) => self.sequence(items, at, next),
            Node::Repeat(inner, min, max) => self.repeat(inner, *min, *max, 0, at, next),
        }
    }

    fn sequence(&mut self, items: &[Node], at: usize, next: &mut Next<'_>) -> bool {
        match items.split_first() {
            None => next(at, self),
            Some((first, rest)) => self.matches(first, at, &mut |end, m: &mut Matcher<'_>| {
                m.sequence(rest, end, next)
            }),
        }
    }

    /// Greedy: one more repetition first, then stop (when at least `min` were made).
    fn repeat(
        &mut self,
        inner: &Node,
        min: usize,
        max: Option<usize>,
        done: usize,
        at: usize,
        next: &mut Next<'_>,
    ) -> bool {
        let more = max.is_none_or(|max| done < max);
        if more
            && self.matches(inner, at, &mut |end, m: &mut Matcher<'_>| {
                // An empty repetition would loop forever without consuming anything.
                end != at && m.repeat(inner, min, max, done + 1, end, next)
            })
        {
            return true;
        }
        done >= min && next(at, self)
    }
}

#[cfg(test)]
mod tests {
    use super::full_match;

    #[test]
    fn patterns_match_whole_values() {
        assert_eq!(full_match("[a-z][a-z0-9-]*", "web-01"), Some(true));
        assert_eq!(
            full_match("[0-9]+", "12abc"),
            Some(false),
            "the whole value"
        );
        assert_eq!(full_match("^(dev|tst|prd)$", "tst"), Some(true));
        assert_eq!(
            full_match(
                "(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})",
                "10.0.0.0/16"
            ),
            Some(true)
        );
        assert_eq!(
            full_match(
                "(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})",
                "10.0.0/16"
            ),
            Some(false)
        );
        assert_eq!(
            full_match("[\\x20-\\x7E]*", "x"),
            None,
            "unknown escapes are not judged"
        );
        assert_eq!(
            full_match("(?=a)a", "a"),
            None,
            "look-arounds are not judged"
        );
        assert_eq!(full_match("[^\\s]+", "no-space"), Some(true));
        assert_ne!(
            full_match("(a*)*b", &"a".repeat(40)),
            Some(true),
            "backtracking is bounded"
        );
        assert_eq!(full_match("", ""), Some(true));
    }
}
