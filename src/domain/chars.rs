//! Characters that must never reach a file name, a record's text, a receipt, a bundle or a log
//! as themselves: they are invisible or change how the text around them is shown.

/// Whether `c` is a control or an invisible format character: C0/C1 controls and DEL
/// (Unicode category Cc), every format character (Cf: bidi embeddings, overrides and isolates
/// U+202A–202E and U+2066–2069, the marks U+200E/200F and U+061C, zero-width U+200B–200D and
/// U+2060, the BOM U+FEFF, the soft hyphen, tag characters, …), and the line and paragraph
/// separators U+2028/2029.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

/// Whether `s` holds any character of [`is_unsafe`].
pub fn has_unsafe(s: &str) -> bool {
    s.chars().any(is_unsafe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_are_unsafe_letters_are_not() {
        for c in [
            '\0',
            '\n',
            '\t',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{202a}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{200e}',
            '\u{200f}',
            '\u{61c}',
            '\u{200b}',
            '\u{200d}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{2028}',
            '\u{2029}',
            '\u{e0041}',
        ] {
            assert!(is_unsafe(c), "{:x}", c as u32);
        }
        for c in ['a', 'Z', ' ', 'é', 'ß', 'Ð', 'đ', '\u{308}', '\u{5d0}', '\u{627}', '-', '\'', '€'] {
            assert!(!is_unsafe(c), "{:x}", c as u32);
        }
        assert!(has_unsafe("vsc\u{202e}exe.csv"));
        assert!(!has_unsafe("Bérénice lijst.csv"));
    }
}
