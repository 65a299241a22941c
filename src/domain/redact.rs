//! Redaction for a client's record export (SPEC §2): fellow members' names typed into that
//! client's notes become `[group member]`.

use regex::{Regex, RegexBuilder};

pub const PLACEHOLDER: &str = "[group member]";

/// A redactor for a set of names: whole words, case-insensitive, and also their accent-free
/// spellings ("José" also matches "Jose").
pub struct Redactor {
    pattern: Option<Regex>,
}

impl Redactor {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut forms: Vec<String> = Vec::new();
        for name in names {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            forms.push(name.to_string());
            let plain = deunicode::deunicode(name);
            if plain != name {
                forms.push(plain);
            }
        }
        // Longest first, so "Mary Ann" wins over "Mary".
        forms.sort_by_key(|f| std::cmp::Reverse(f.chars().count()));
        forms.dedup();
        if forms.is_empty() {
            return Redactor { pattern: None };
        }
        let alternatives: Vec<String> = forms.iter().map(|f| regex::escape(f)).collect();
        let pattern = RegexBuilder::new(&format!(r"\b(?:{})\b", alternatives.join("|")))
            .case_insensitive(true)
            .build()
            .ok();
        Redactor { pattern }
    }

    pub fn redact(&self, text: &str) -> String {
        match &self.pattern {
            Some(p) => p.replace_all(text, PLACEHOLDER).into_owned(),
            None => text.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_case_insensitive_and_accent_free() {
        let r = Redactor::new(["José", "Núñez", "Al", "Mary Ann"]);
        assert_eq!(
            r.redact("jose and NUNEZ argued"),
            "[group member] and [group member] argued"
        );
        assert_eq!(r.redact("José Núñez"), "[group member] [group member]");
        assert_eq!(
            r.redact("Alcohol and Al"),
            "Alcohol and [group member]",
            "not inside words"
        );
        assert_eq!(r.redact("mary ann cried"), "[group member] cried");
    }

    #[test]
    fn no_names_no_change_and_special_characters_are_literal() {
        assert_eq!(Redactor::new([]).redact("text"), "text");
        assert_eq!(
            Redactor::new(["O'Neil", " "]).redact("told o'neil (.*)"),
            "told [group member] (.*)"
        );
    }
}
