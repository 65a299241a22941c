//! Redaction for a client's record export (SPEC §2: never another member's name): fellow
//! members' names typed into that client's notes become `[group member]`.
//!
//! Matching is on whole words, case-insensitive and accent-insensitive in both directions
//! ("José" matches "jose", and a name stored as "Jose" matches "JOSÉ"): names and text are
//! compared in a folded form (transliterated to ASCII, lower-cased) and the matched spans are
//! replaced in the original text. A name of several parts ("Mary Ann", "García-López") is
//! also matched part by part, except for short particles such as "de" or "van". Punctuation
//! around a name or a part ("Jr.", "(Ann)") is not part of what is matched, so "Smith Jr."
//! is found before a full stop as well as before a space.
//!
//! Fellow members' ids (client and membership ids pasted into a note) are redacted too.

use regex::{Regex, RegexBuilder};

pub const PLACEHOLDER: &str = "[group member]";

/// Name particles that are ordinary words when they stand alone: never matched on their own.
const PARTICLES: &[&str] = &[
    "al", "ben", "bin", "d", "da", "das", "de", "degli", "del", "della", "den", "der", "di", "do",
    "dos", "du", "e", "el", "ibn", "ii", "iii", "iv", "jr", "la", "las", "le", "les", "lo", "los",
    "sr", "st", "ter", "van", "von", "y", "zu",
];

/// A name or a part of one without the punctuation around it.
fn bare(s: &str) -> &str {
    s.trim_matches(|c: char| !c.is_alphanumeric())
}

/// `text` transliterated and lower-cased, with, for each byte of the result, the byte range
/// of the original character it came from.
fn fold(text: &str) -> (String, Vec<(usize, usize)>) {
    let mut folded = String::with_capacity(text.len());
    let mut origin: Vec<(usize, usize)> = Vec::with_capacity(text.len());
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        let before = folded.len();
        match deunicode::deunicode_char(c) {
            Some(ascii) => folded.extend(ascii.chars().flat_map(char::to_lowercase)),
            None => folded.extend(c.to_lowercase()),
        }
        if folded.len() == before {
            // A combining mark (or another character that folds to nothing) belongs to the
            // character before it: a match of that character covers it too.
            if let Some(&prev) = origin.last() {
                for o in origin.iter_mut().rev().take_while(|o| **o == prev) {
                    o.1 = end;
                }
            }
        }
        origin.resize(origin.len() + (folded.len() - before), (start, end));
    }
    (folded, origin)
}

/// The folded forms to look for: each name, and the parts of a name of several parts.
fn forms<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut forms = Vec::new();
    for name in names {
        let whole = bare(&fold(name.trim()).0).to_string();
        if !whole.chars().any(char::is_alphanumeric) {
            continue;
        }
        let parts: Vec<&str> = whole
            .split(|c: char| c.is_whitespace() || c == '-')
            .map(bare)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() > 1 {
            forms.extend(
                parts
                    .into_iter()
                    .filter(|p| p.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
                    .filter(|p| !PARTICLES.contains(p))
                    .map(str::to_string),
            );
        }
        forms.push(whole);
    }
    // Longest first, so "mary ann" is replaced as one name rather than as two.
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    forms
}

/// A redactor for a set of names (first, last and preferred names of fellow members).
pub struct Redactor {
    pattern: Option<Regex>,
}

impl Redactor {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Redactor {
        Self::with_ids(names, [])
    }

    /// Names, and ids written hyphenated or as 32 hex digits, in any case.
    pub fn with_ids<'a>(
        names: impl IntoIterator<Item = &'a str>,
        ids: impl IntoIterator<Item = uuid::Uuid>,
    ) -> Redactor {
        let mut forms = forms(names);
        for id in ids {
            forms.push(id.hyphenated().to_string());
            forms.push(id.simple().to_string());
        }
        if forms.is_empty() {
            return Redactor { pattern: None };
        }
        let alternatives: Vec<String> = forms.iter().map(|f| regex::escape(f)).collect();
        // Escaped literals always compile; a pattern too large for the regex engine (tens of
        // thousands of names) would not, and then nothing could be exported safely.
        let pattern = RegexBuilder::new(&format!(r"\b(?:{})\b", alternatives.join("|")))
            .case_insensitive(true)
            .size_limit(64 << 20)
            .build()
            .expect("a pattern of escaped names compiles");
        Redactor {
            pattern: Some(pattern),
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let Some(pattern) = &self.pattern else {
            return text.to_string();
        };
        let (folded, origin) = fold(text);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for m in pattern.find_iter(&folded) {
            let (start, end) = (origin[m.start()].0, origin[m.end() - 1].1);
            if start < copied {
                continue; // two folded matches inside one original character
            }
            out.push_str(&text[copied..start]);
            out.push_str(PLACEHOLDER);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
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
        assert_eq!(
            r.redact("Mary cried, then Ann"),
            "[group member] cried, then [group member]"
        );
    }

    #[test]
    fn accents_in_the_text_match_a_plain_name() {
        let r = Redactor::new(["Jose", "Zoe"]);
        assert_eq!(
            r.redact("JOSÉ and Zoë's brother"),
            "[group member] and [group member]'s brother"
        );
        // Decomposed accents (e + combining acute) too; the rest of the text is untouched.
        assert_eq!(r.redact("Jose\u{301}, ça va"), "[group member], ça va");
    }

    #[test]
    fn parts_of_compound_names_but_not_particles() {
        let r = Redactor::new(["García-López", "de la Cruz", "Van Dyke"]);
        assert_eq!(
            r.redact("garcia said lopez"),
            "[group member] said [group member]"
        );
        assert_eq!(r.redact("García-López"), "[group member]");
        assert_eq!(
            r.redact("Cruz came de la mañana"),
            "[group member] came de la mañana"
        );
        assert_eq!(r.redact("de la cruz"), "[group member]");
        assert_eq!(
            r.redact("the van left; Dyke stayed"),
            "the van left; [group member] stayed"
        );
    }

    #[test]
    fn no_names_no_change_and_special_characters_are_literal() {
        assert_eq!(Redactor::new([]).redact("text"), "text");
        assert_eq!(Redactor::new([" ", ""]).redact("text"), "text");
        assert_eq!(
            Redactor::new(["O'Neil", " "]).redact("told o'neil (.*)"),
            "told [group member] (.*)"
        );
        assert_eq!(Redactor::new(["(.*)"]).redact("a.b"), "a.b");
    }

    #[test]
    fn names_with_leading_or_trailing_punctuation() {
        let r = Redactor::new(["Smith Jr.", "(Ann)", "Lee,"]);
        assert_eq!(
            r.redact("Smith Jr. said so. Ann, and lee."),
            "[group member]. said so. [group member], and [group member]."
        );
        assert_eq!(r.redact("smith jr"), "[group member]");
        assert_eq!(r.redact("Smith"), "[group member]", "a part on its own");
        assert_eq!(
            r.redact("the jr. varsity"),
            "the jr. varsity",
            "never a bare suffix"
        );
    }

    #[test]
    fn ids_of_fellow_members() {
        let id = uuid::Uuid::new_v4();
        let r = Redactor::with_ids(["Ann"], [id]);
        let upper = id.hyphenated().to_string().to_uppercase();
        assert_eq!(
            r.redact(&format!("see {id} and {} and {upper}", id.simple())),
            "see [group member] and [group member] and [group member]"
        );
        assert_eq!(Redactor::with_ids([], [id]).redact("nothing"), "nothing");
    }

    #[test]
    fn non_latin_names_and_text() {
        let r = Redactor::new(["Иван", "Łukasz"]);
        assert_eq!(r.redact("иван и Лукаш"), "[group member] и Лукаш");
        assert_eq!(r.redact("LUKASZ"), "[group member]");
        assert_eq!(
            r.redact("ivan"),
            "[group member]",
            "transliterated spelling"
        );
    }
}
