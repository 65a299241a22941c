//! A small, deterministic PDF typesetter for disclosed documents: lines of text in the
//! standard Helvetica fonts (never embedded, WinAnsi encoding), wrapped to the page, paginated
//! with "Page n of N". The same lines always give the same bytes: no dates, ids or random
//! values are added, the document has no file identifier and no creation date.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// US Letter, in points.
const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 64.0;
const FOOTER_Y: f32 = 36.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Title,
    Heading,
    Body,
    Bold,
    Small,
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Style::Title => 15.0,
            Style::Heading => 11.5,
            Style::Body | Style::Bold => 10.0,
            Style::Small => 8.5,
        }
    }

    fn bold(self) -> bool {
        matches!(self, Style::Title | Style::Heading | Style::Bold)
    }

    fn leading(self) -> f32 {
        self.size() * 1.35
    }
}

/// One block of the document: a paragraph wrapped to the width, a row of columns (each cell
/// at a fixed offset, never wrapped), or vertical space.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Para {
        style: Style,
        indent: f32,
        text: String,
    },
    Row {
        style: Style,
        cells: Vec<(f32, String)>,
    },
    Space(f32),
}

pub fn para(style: Style, text: impl Into<String>) -> Block {
    Block::Para {
        style,
        indent: 0.0,
        text: text.into(),
    }
}

pub fn indented(style: Style, indent: f32, text: impl Into<String>) -> Block {
    Block::Para {
        style,
        indent,
        text: text.into(),
    }
}

/// Helvetica's advance widths (1/1000 em) for ASCII 32..=126, from the standard AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // :;<=>?@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [\]^_`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, // a-z
    334, 260, 334, 584, // {|}~
];

/// Helvetica-Bold's advance widths for ASCII 32..=126.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    333, 333, 584, 584, 584, 611, 975, // :;<=>?@
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // A-Z
    333, 278, 333, 584, 556, 333, // [\]^_`
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556,
    333, 611, 556, 778, 556, 556, 500, // a-z
    389, 280, 389, 584, // {|}~
];

/// WinAnsi (Windows-1252) byte of a character, if it has one.
fn win_ansi(c: char) -> Option<u8> {
    let u = c as u32;
    match u {
        0x20..=0x7E | 0xA0..=0xFF => Some(u as u8),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => return None,
        }),
    }
}

/// The text as the standard fonts can show it: characters outside WinAnsi are transliterated
/// (e.g. "Łukasz" → "Lukasz"), whitespace and control characters become spaces.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            out.push(' ');
        } else if win_ansi(c).is_some() {
            out.push(c);
        } else {
            let t = deunicode::deunicode_char(c).unwrap_or("?");
            for tc in t.chars() {
                out.push(if win_ansi(tc).is_some() { tc } else { '?' });
            }
        }
    }
    out
}

fn encode(s: &str) -> Vec<u8> {
    s.chars().map(|c| win_ansi(c).unwrap_or(b'?')).collect()
}

/// Width in points of already-printable text.
fn width(s: &str, style: Style) -> f32 {
    let table = if style.bold() {
        &HELVETICA_BOLD
    } else {
        &HELVETICA
    };
    let units: u32 = s
        .chars()
        .map(|c| {
            let base = if c.is_ascii() {
                c
            } else {
                deunicode::deunicode_char(c)
                    .and_then(|t| t.chars().next())
                    .filter(char::is_ascii)
                    .unwrap_or('m')
            };
            match base as u32 {
                0x20..=0x7E => u32::from(table[base as usize - 0x20]),
                _ => 556,
            }
        })
        .sum();
    units as f32 * style.size() / 1000.0
}

/// Greedy word wrap to `max` points; a word longer than a line is cut.
fn wrap(text: &str, style: Style, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, style) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word.to_string();
        while width(&rest, style) > max {
            let mut cut = String::new();
            for c in rest.chars() {
                if width(&format!("{cut}{c}"), style) > max {
                    break;
                }
                cut.push(c);
            }
            if cut.is_empty() {
                break;
            }
            rest = rest[cut.len()..].to_string();
            lines.push(cut);
        }
        line = rest;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// One positioned run of text on a page.
struct Run {
    style: Style,
    x: f32,
    y: f32,
    text: String,
}

fn layout(blocks: &[Block]) -> Vec<Vec<Run>> {
    let top = PAGE_H - MARGIN;
    let bottom = MARGIN;
    let max = PAGE_W - 2.0 * MARGIN;
    let mut pages: Vec<Vec<Run>> = vec![Vec::new()];
    let mut y = top;
    let advance = |pages: &mut Vec<Vec<Run>>, y: &mut f32, by: f32| {
        if *y - by < bottom {
            pages.push(Vec::new());
            *y = top;
        }
        *y -= by;
    };
    for block in blocks {
        match block {
            Block::Space(h) => {
                if y - h >= bottom {
                    y -= h;
                }
            }
            Block::Para {
                style,
                indent,
                text,
            } => {
                for line in wrap(&printable(text), *style, max - indent) {
                    advance(&mut pages, &mut y, style.leading());
                    pages.last_mut().expect("a page").push(Run {
                        style: *style,
                        x: MARGIN + indent,
                        y,
                        text: line,
                    });
                }
            }
            Block::Row { style, cells } => {
                advance(&mut pages, &mut y, style.leading());
                for (x, text) in cells {
                    pages.last_mut().expect("a page").push(Run {
                        style: *style,
                        x: MARGIN + x,
                        y,
                        text: printable(text),
                    });
                }
            }
        }
    }
    pages
}

/// Typesets the blocks; `title` goes in the document information.
pub fn render(title: &str, footer: &str, blocks: &[Block]) -> Vec<u8> {
    let pages = layout(blocks);
    let n = pages.len();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let page_ref = |i: usize| Ref::new((first_page + 2 * i) as i32);
    let content_ref = |i: usize| Ref::new((first_page + 2 * i + 1) as i32);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids((0..n).map(page_ref)).count(n as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&printable(title)))
        .producer(TextStr("groupwork"));

    for (i, runs) in pages.iter().enumerate() {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(content_ref(i));
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        page.finish();

        let mut content = Content::new();
        for run in runs {
            let font = if run.style.bold() { b"F2" } else { b"F1" };
            content
                .begin_text()
                .set_font(Name(font), run.style.size())
                .next_line(run.x, run.y)
                .show(Str(&encode(&run.text)))
                .end_text();
        }
        let foot = printable(&format!("{footer} — Page {} of {n}", i + 1));
        content
            .begin_text()
            .set_font(Name(b"F1"), Style::Small.size())
            .next_line(MARGIN, FOOTER_Y)
            .show(Str(&encode(&foot)))
            .end_text();
        let bytes = content.finish();
        pdf.stream(content_ref(i), &bytes);
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_blocks_same_bytes() {
        let blocks = vec![
            para(Style::Title, "Riverbend — Łódź"),
            para(Style::Body, "word ".repeat(400)),
        ];
        let a = render("t", "f", &blocks);
        let b = render("t", "f", &blocks);
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-"));
        assert!(!a.windows(12).any(|w| w == b"CreationDate"));
    }

    #[test]
    fn wraps_within_the_width_and_paginates() {
        let lines = wrap(&"lorem ipsum ".repeat(100), Style::Body, 200.0);
        assert!(lines.len() > 10);
        assert!(lines.iter().all(|l| width(l, Style::Body) <= 200.0));
        let many: Vec<Block> = (0..200)
            .map(|i| para(Style::Body, format!("{i}")))
            .collect();
        assert!(layout(&many).len() >= 4);
    }

    #[test]
    fn transliterates_what_win_ansi_lacks() {
        assert_eq!(
            printable("José Łukasz §2.32 — ok"),
            "José Lukasz §2.32 — ok"
        );
        assert_eq!(encode("§é—"), vec![0xA7, 0xE9, 0x97]);
    }
}
