//! Email addresses: trimmed, at most 254 characters, one `@`, a dotted domain, no spaces.
//! Uniqueness is case-insensitive (enforced by an index on `lower(email)`).

pub fn parse_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim();
    if email.is_empty() {
        return Err("must not be empty");
    }
    if email.chars().count() > 254 {
        return Err("must be at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("must be an email address");
    };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok {
        return Err("must be an email address");
    }
    Ok(email.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_email;

    #[test]
    fn accepts_and_trims() {
        assert_eq!(
            parse_email("  Ann.Lee@Clinic.org ").unwrap(),
            "Ann.Lee@Clinic.org"
        );
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.org",
            "a@b",
            "a b@c.org",
            "a@@c.org",
            "a@c..org",
            "a@c.org.",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
