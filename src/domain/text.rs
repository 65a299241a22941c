//! Free-text fields: trimmed, bounded, no control characters other than newlines and tabs.
//! Single-line values (names, labels) also refuse Unicode format characters (SPEC §3 v2): a
//! bidi override (U+202E) or a zero-width joiner in a name makes a list show one name while
//! holding another.

/// A required single-line name-like value (1..=max characters after trimming).
pub fn required_line(raw: &str, max: usize) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    check(v, max, false).map(|_| v.to_string())
}

/// Unicode general category Cf (format) and the line/paragraph separators: invisible
/// characters that reorder, join or hide the text around them.
pub fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
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
    if !multiline && v.chars().any(is_format_char) {
        return Err("must not contain invisible formatting characters (e.g. U+202E)".into());
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
    fn names_refuse_bidi_and_invisible_characters() {
        for bad in [
            "Ann\u{202E}nhoJ",
            "Zero\u{200B}Width",
            "A\u{2066}b",
            "x\u{FEFF}",
            "soft\u{AD}",
        ] {
            assert!(required_line(bad, 100).is_err(), "{bad:?}");
            assert!(optional_line(Some(bad), 100).is_err(), "{bad:?}");
        }
        assert_eq!(
            required_line("Zoë Ångström-Núñez", 100).unwrap(),
            "Zoë Ångström-Núñez"
        );
        assert_eq!(required_line("O'Brien Jr.", 100).unwrap(), "O'Brien Jr.");
        assert_eq!(required_line("محمد", 100).unwrap(), "محمد");
    }

    #[test]
    fn search_key_folds_case_and_accents() {
        assert_eq!(search_key(&["José", "ÑÚÑEZ"]), "jose nunez");
    }
}
