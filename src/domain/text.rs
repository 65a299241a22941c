//! Free-text fields: trimmed, bounded, no control characters other than newlines and tabs.

/// A required single-line name-like value (1..=max characters after trimming).
pub fn required_line(raw: &str, max: usize) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    check(v, max, false).map(|_| v.to_string())
}

/// Optional single-line value: blank becomes `None`.
pub fn optional_line(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => check(v, max, false).map(|_| Some(v.to_string())),
    }
}

/// Multi-line free text (notes, reasons): newlines and tabs allowed.
pub fn text(raw: &str, max: usize) -> Result<String, String> {
    check(raw, max, true).map(|_| raw.to_string())
}

fn check(v: &str, max: usize, multiline: bool) -> Result<(), String> {
    if v.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let bad = v
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// Lower-case, accent-free form used for name search (`José` → `jose`).
pub fn search_key(parts: &[&str]) -> String {
    deunicode::deunicode(&parts.join(" ")).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(required_line("  Ann ", 10).unwrap(), "Ann");
        assert!(required_line("   ", 10).is_err());
        assert!(required_line("a\u{7}b", 10).is_err());
        assert!(required_line(&"x".repeat(11), 10).is_err());
        assert_eq!(optional_line(Some(" "), 5).unwrap(), None);
        assert!(text("line one\nline two", 100).is_ok());
    }

    #[test]
    fn search_key_folds_case_and_accents() {
        assert_eq!(search_key(&["José", "ÑÚÑEZ"]), "jose nunez");
    }
}
