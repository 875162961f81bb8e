//! Redis glob patterns: confining an admin's pattern to our namespace, and matching keys the way
//! Redis does for the in-process backend.

/// Why a `clearCache` pattern was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatternError {
    /// Empty, too long, or holding control characters.
    #[error("pattern must be 1 to 256 printable characters")]
    Malformed,
    /// An unclosed `[` or a trailing `\`.
    #[error("pattern has an unclosed `[` or a trailing `\\`")]
    Unbalanced,
}

/// Escapes every glob metacharacter of `literal`, so that it matches only itself.
pub fn escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len() + 4);
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The full SCAN pattern for `relative` under `prefix`.
///
/// The prefix is escaped, so whatever `relative` holds, a matching key starts with `prefix`: the
/// pattern can never reach keys outside the namespace. `relative` must also be well formed, or
/// Redis and [`matches`] could read it differently.
pub fn confine(prefix: &str, relative: &str) -> Result<String, PatternError> {
    if relative.is_empty() || relative.len() > 256 || relative.chars().any(char::is_control) {
        return Err(PatternError::Malformed);
    }
    check_balanced(relative)?;
    Ok(format!("{}{relative}", escape(prefix)))
}

fn check_balanced(p: &str) -> Result<(), PatternError> {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next().ok_or(PatternError::Unbalanced)?;
            }
            '[' => loop {
                match chars.next() {
                    None => return Err(PatternError::Unbalanced),
                    Some('\\') => {
                        chars.next().ok_or(PatternError::Unbalanced)?;
                    }
                    Some(']') => break,
                    Some(_) => {}
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// Whether `key` matches the Redis glob `pattern` (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`).
pub fn matches(pattern: &str, key: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let k: Vec<char> = key.chars().collect();
    match_from(&p, &k)
}

fn match_from(p: &[char], k: &[char]) -> bool {
    let (mut pi, mut ki) = (0, 0);
    // Position after the last `*` and the key index it was tried at, for backtracking.
    let mut star: Option<(usize, usize)> = None;
    while ki < k.len() {
        let step = if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi + 1, ki));
                    pi += 1;
                    continue;
                }
                '?' => Some(pi + 1),
                '[' => class(p, pi, k[ki]),
                '\\' if pi + 1 < p.len() => (p[pi + 1] == k[ki]).then_some(pi + 2),
                c => (c == k[ki]).then_some(pi + 1),
            }
        } else {
            None
        };
        match step {
            Some(next) => {
                pi = next;
                ki += 1;
            }
            None => match star {
                Some((sp, sk)) => {
                    pi = sp;
                    ki = sk + 1;
                    star = Some((sp, sk + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`; returns the index after `]`.
fn class(p: &[char], start: usize, c: char) -> Option<usize> {
    let mut i = start + 1;
    let negate = p.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    while i < p.len() && p[i] != ']' {
        let lo = if p[i] == '\\' && i + 1 < p.len() {
            i += 1;
            p[i]
        } else {
            p[i]
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = p[i + 2];
            if (lo.min(hi)..=lo.max(hi)).contains(&c) {
                hit = true;
            }
            i += 3;
        } else {
            if lo == c {
                hit = true;
            }
            i += 1;
        }
    }
    (i < p.len() && hit != negate).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_redis() {
        assert!(matches("a*", "abc"));
        assert!(matches("*", ""));
        assert!(matches("h?llo", "hello"));
        assert!(!matches("h?llo", "hllo"));
        assert!(matches("h[ae]llo", "hallo"));
        assert!(!matches("h[^e]llo", "hello"));
        assert!(matches("h[a-b]llo", "hbllo"));
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "axb"));
        assert!(matches("user:*:x", "user:12:x"));
        assert!(!matches("user:*", "email:1"));
    }

    #[test]
    fn patterns_stay_inside_the_prefix() {
        let p = confine("app*[1]:", "*").unwrap();
        assert_eq!(p, "app\\*\\[1\\]:*");
        assert!(matches(&p, "app*[1]:user:1"));
        assert!(!matches(&p, "appX1]:user:1"));
        assert!(!matches(&p, "other:user:1"));
        assert_eq!(confine("p:", ""), Err(PatternError::Malformed));
        assert_eq!(confine("p:", "[abc"), Err(PatternError::Unbalanced));
        assert_eq!(confine("p:", "abc\\"), Err(PatternError::Unbalanced));
        assert_eq!(confine("p:", "a\nb"), Err(PatternError::Malformed));
    }
}
