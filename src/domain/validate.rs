//! Input checks; each failure is a `BAD_USER_INPUT` naming the field.
use std::borrow::Cow;

/// Why an input was refused: the field, as named in the schema, and why. Reported as
/// `BAD_USER_INPUT` (see `crate::error`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {field}: {message}")]
pub struct InputError {
    /// The argument or input field at fault.
    pub field: &'static str,
    /// Why it is invalid.
    pub message: Cow<'static, str>,
}

impl InputError {
    fn new(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

type InputResult<T> = Result<T, InputError>;

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_valid_email(email: &str) -> bool {
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

/// Trims and lower-cases an email, and checks it.
pub fn email(raw: &str) -> InputResult<String> {
    let email = raw.trim().to_lowercase();
    if is_valid_email(&email) {
        Ok(email)
    } else {
        Err(InputError::new("email", "not a valid email address"))
    }
}

/// Trims a full name and checks it has 1 to 200 characters.
pub fn full_name(raw: &str) -> InputResult<String> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > 200 {
        return Err(InputError::new(
            "fullName",
            "must be 1 to 200 characters after trimming",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(InputError::new(
            "fullName",
            "must not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// At least 8 characters; at most 1024 so hashing cannot be abused.
pub fn password(raw: &str) -> InputResult<()> {
    let n = raw.chars().count();
    if n < 8 {
        return Err(InputError::new("password", "must be at least 8 characters"));
    }
    if raw.len() > 1024 {
        return Err(InputError::new("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

/// A user id: a positive integer, sent as an `ID` string.
pub fn id(raw: &str) -> InputResult<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|&id| id > 0)
        .ok_or_else(|| InputError::new("id", "must be a positive integer"))
}

/// The most rows `users(limit)` returns: the resolver prices, covers and checks pages by it.
pub const MAX_LIMIT: i32 = 1000;

/// `0 <= skip`, `1 <= limit <= MAX_LIMIT`.
pub fn page(skip: i32, limit: i32) -> InputResult<(u64, u64)> {
    if skip < 0 {
        return Err(InputError::new("skip", "must be 0 or more"));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(InputError::new("limit", "must be 1 to 1000"));
    }
    Ok((skip as u64, limit as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("  Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in [
            "", "a", "a@b", "@b.c", "a@b..c", "a b@c.d", "a@@b.c", "a@.b.c", "a@b.c.",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_passwords_ids_pages() {
        assert_eq!(full_name("  Ana  ").unwrap(), "Ana");
        assert!(full_name("   ").is_err());
        assert!(full_name(&"x".repeat(201)).is_err());
        assert!(full_name(&"é".repeat(200)).is_ok());
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert_eq!(id("42").unwrap(), 42);
        for bad in ["0", "-1", "x", "", "99999999999999999999"] {
            assert!(id(bad).is_err(), "{bad}");
        }
        assert!(page(-1, 10).is_err());
        assert!(page(0, 0).is_err());
        assert!(page(0, 1001).is_err());
        assert_eq!(page(5, 1000).unwrap(), (5, 1000));
    }
}
