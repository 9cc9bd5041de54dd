//! Who may decide an environment's approvals: IAM ARN patterns from its environment file, matched
//! against the caller ARN that IAM authenticated — never against a name a client sends.
//!
//! The matching rule, as IAM's `ArnLike` has it: an ARN has six colon-separated fields
//! (`arn:partition:service:region:account:resource`; the resource may hold further colons), and a
//! pattern matches an ARN when each of its six fields matches the ARN's field of the same place.
//! Within a field `*` stands for any run of characters, none included (`/` too); every other
//! character stands for itself, case-sensitively. A `*` never reaches into another field, so a
//! pattern matches ARNs of another account only if its account field says so with `*`.

use serde::Deserialize;

/// The fields of an ARN: `arn`, partition, service, region, account, resource.
const FIELDS: usize = 6;

/// An IAM ARN pattern that may decide approvals, e.g.
/// `arn:aws:sts::*:assumed-role/infra-agent-approver-prd/*`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ArnPattern(String);

impl ArnPattern {
    /// A pattern of six fields starting `arn:`, with a resource, and nothing a person cannot see.
    pub fn parse(text: &str) -> Result<ArnPattern, String> {
        let fields = fields(text).ok_or_else(|| {
            format!("approver pattern '{text}' is not an ARN (arn:partition:service:region:account:resource)")
        })?;
        if fields[0] != "arn" {
            return Err(format!("approver pattern '{text}' must start with 'arn:'"));
        }
        if fields[FIELDS - 1].is_empty() {
            return Err(format!("approver pattern '{text}' names no resource"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "approver pattern '{}' holds whitespace or control characters",
                text.escape_debug()
            ));
        }
        Ok(ArnPattern(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `arn` (a caller ARN as IAM reports it) matches this pattern, field by field.
    pub fn matches(&self, arn: &str) -> bool {
        match (fields(&self.0), fields(arn)) {
            (Some(pattern), Some(arn)) => pattern
                .iter()
                .zip(arn.iter())
                .all(|(p, a)| glob(p.as_bytes(), a.as_bytes())),
            _ => false,
        }
    }
}

impl TryFrom<String> for ArnPattern {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        ArnPattern::parse(&text)
    }
}

impl std::fmt::Display for ArnPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first pattern of `patterns` that `caller` matches.
pub fn allowed_by<'a>(patterns: &'a [ArnPattern], caller: &str) -> Option<&'a ArnPattern> {
    patterns.iter().find(|p| p.matches(caller))
}

/// The six fields of an ARN (split at its first five colons), if it has six.
fn fields(arn: &str) -> Option<[&str; FIELDS]> {
    let mut parts = arn.splitn(FIELDS, ':');
    let mut out = [""; FIELDS];
    for field in &mut out {
        *field = parts.next()?;
    }
    Some(out)
}

/// `*` matches any run of bytes; everything else matches itself. Greedy with one backtrack point,
/// so linear in practice and never exponential.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            // The last `*` takes one more byte, and matching resumes after it.
            star = Some((star_p, star_t + 1));
            p = star_p + 1;
            t = star_t + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> ArnPattern {
        ArnPattern::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    const PRD: &str = "arn:aws:sts::*:assumed-role/infra-agent-approver-prd/*";

    #[test]
    fn a_role_pattern_matches_every_session_of_that_role_and_nothing_else() {
        let prd = pattern(PRD);
        assert!(prd.matches("arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/ada"));
        assert!(
            prd.matches("arn:aws:sts::210987654321:assumed-role/infra-agent-approver-prd/grace")
        );
        for other in [
            "arn:aws:sts::123456789012:assumed-role/infra-agent-approver/ada",
            "arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd-x/ada",
            "arn:aws:sts::123456789012:assumed-role/x-infra-agent-approver-prd/ada",
            "arn:aws:iam::123456789012:role/infra-agent-approver-prd",
            "arn:aws:iam::123456789012:user/infra-agent-approver-prd/ada",
            "arn:aws-cn:sts::123456789012:assumed-role/infra-agent-approver-prd/ada",
            "arn:aws:sts:us-east-1:123456789012:assumed-role/infra-agent-approver-prd/ada",
            "infra-agent-approver-prd",
            "",
        ] {
            assert!(!prd.matches(other), "{other}");
        }
    }

    #[test]
    fn a_pattern_never_matches_across_accounts_unless_its_account_is_a_wildcard() {
        let own = pattern("arn:aws:sts::111111111111:assumed-role/approver/*");
        assert!(own.matches("arn:aws:sts::111111111111:assumed-role/approver/ada"));
        assert!(!own.matches("arn:aws:sts::222222222222:assumed-role/approver/ada"));
        // A `*` in the resource stays in the resource: an ARN whose resource repeats the
        // pattern's account does not carry another account through.
        let resource_star = pattern("arn:aws:sts::111111111111:*");
        assert!(!resource_star
            .matches("arn:aws:sts::222222222222:assumed-role/x:111111111111:assumed-role/y"));
        assert!(resource_star.matches("arn:aws:sts::111111111111:assumed-role/a:b"));
        // Nor does a `*` in another field reach into the account.
        let region_star = pattern("arn:aws:sts:*:111111111111:assumed-role/approver/*");
        assert!(!region_star.matches("arn:aws:sts:x:222222222222:assumed-role/approver/ada"));
        // A wildcard in the account says so.
        let prefix = pattern("arn:aws:sts::1111*:assumed-role/approver/*");
        assert!(prefix.matches("arn:aws:sts::111122223333:assumed-role/approver/ada"));
        assert!(!prefix.matches("arn:aws:sts::222211113333:assumed-role/approver/ada"));
    }

    #[test]
    fn wildcards_match_any_run_anywhere_in_a_field_and_literals_match_exactly() {
        let any_prd_role = pattern("arn:aws:sts::*:assumed-role/*-prd/*");
        assert!(any_prd_role.matches("arn:aws:sts::1:assumed-role/approver-prd/ada"));
        assert!(any_prd_role.matches("arn:aws:sts::1:assumed-role/-prd/ada"));
        assert!(!any_prd_role.matches("arn:aws:sts::1:assumed-role/approver-prod/ada"));
        let user = pattern("arn:aws:iam::123456789012:user/ada");
        assert!(user.matches("arn:aws:iam::123456789012:user/ada"));
        assert!(!user.matches("arn:aws:iam::123456789012:user/Ada"));
        assert!(!user.matches("arn:aws:iam::123456789012:user/adam"));
        assert!(!user.matches("arn:aws:iam::123456789012:user/ad"));
        let stars = pattern("arn:aws:iam::*:user/*a*b*");
        assert!(stars.matches("arn:aws:iam::1:user/xxaxxbxx"));
        assert!(stars.matches("arn:aws:iam::1:user/ab"));
        assert!(!stars.matches("arn:aws:iam::1:user/ba"));
        assert!(pattern("arn:*:*:*:*:*").matches("arn:aws:sts::1:assumed-role/r/s"));
    }

    #[test]
    fn malformed_patterns_are_refused_with_the_pattern_named() {
        for bad in [
            "*",
            "arn:aws:sts::*",
            "arn:aws:sts::*:",
            "aws:sts::1:user/x:y",
            "arn:aws:iam::1:user/ada ",
            "arn:aws:iam::1:user/\u{1b}[2J",
        ] {
            let err = ArnPattern::parse(bad).expect_err(bad);
            assert!(err.contains("approver pattern"), "{err}");
        }
    }

    #[test]
    fn the_first_matching_pattern_is_named() {
        let patterns = [pattern("arn:aws:iam::*:user/ada"), pattern(PRD)];
        assert_eq!(
            allowed_by(
                &patterns,
                "arn:aws:sts::1:assumed-role/infra-agent-approver-prd/x"
            ),
            Some(&patterns[1])
        );
        assert_eq!(allowed_by(&patterns, "arn:aws:iam::1:user/bob"), None);
        assert_eq!(allowed_by(&[], "arn:aws:iam::1:user/ada"), None);
    }
}
