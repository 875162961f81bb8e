//! Input checks; each failure is a `BAD_USER_INPUT` naming the field.
use crate::error::{AppError, AppResult};

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
pub fn email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    if is_valid_email(&email) {
        Ok(email)
    } else {
        Err(AppError::bad_input("email", "not a valid email address"))
    }
}

/// Trims a full name and checks it has 1 to 200 characters.
pub fn full_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > 200 {
        return Err(AppError::bad_input(
            "fullName",
            "must be 1 to 200 characters after trimming",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "fullName",
            "must not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// At least 8 characters; at most 1024 so hashing cannot be abused.
pub fn password(raw: &str) -> AppResult<()> {
    let n = raw.chars().count();
    if n < 8 {
        return Err(AppError::bad_input(
            "password",
            "must be at least 8 characters",
        ));
    }
    if raw.len() > 1024 {
        return Err(AppError::bad_input(
            "password",
            "must be at most 1024 bytes",
        ));
    }
    Ok(())
}

/// A user id: a positive integer, sent as an `ID` string.
pub fn id(raw: &str) -> AppResult<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|&id| id > 0)
        .ok_or_else(|| AppError::bad_input("id", "must be a positive integer"))
}

/// `0 <= skip`, `1 <= limit <= 1000`.
pub fn page(skip: i32, limit: i32) -> AppResult<(u64, u64)> {
    if skip < 0 {
        return Err(AppError::bad_input("skip", "must be 0 or more"));
    }
    if !(1..=1000).contains(&limit) {
        return Err(AppError::bad_input("limit", "must be 1 to 1000"));
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
