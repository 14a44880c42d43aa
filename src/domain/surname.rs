//! The comparison form of a surname (docs/matching.md person match): prefix position, case, diacritics
//! and punctuation do not matter. Pure: no I/O.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Words of Dutch (and common Belgian, French, German, Iberian) surname prefixes, folded.
/// Sorted, for binary search.
const PREFIX_WORDS: &[&str] = &[
    "aan", "am", "auf", "bij", "d", "da", "das", "de", "del", "della", "den", "der", "des", "di", "do",
    "dos", "du", "het", "im", "in", "l", "la", "le", "les", "lo", "onder", "op", "over", "s", "t", "te",
    "ten", "ter", "uit", "van", "vom", "von", "voor", "zu", "zum", "zur",
];

/// The comparison form of a surname.
///
/// 1. A comma inverts: `Berg, van der` is `van der Berg`. `voorvoegsel` goes in front.
/// 2. Compatibility decomposition (NFKD), combining marks dropped, lower case; a few letters
///    that do not decompose are spelled out (`ß` → `ss`, `ø` → `o`, …).
/// 3. Split into words at everything that is not a letter or digit.
/// 4. Prefix words (`van`, `der`, `'t`, …) are set apart from the name words, each group in its
///    own order, so the position of the prefix does not matter: `van der Berg`,
///    `Berg, van der`, `Berg van der` and `Van Der Bérg` all give `berg, van der`. A name that
///    consists of prefix words only (`Ter`) is all name.
///
/// Two allocations (the folded words and the result): it runs once per signal in a batch.
pub fn surname_key(voorvoegsel: Option<&str>, achternaam: &str) -> String {
    let (main, inverted) = achternaam.split_once(',').unwrap_or((achternaam, ""));
    let mut folded = String::with_capacity(achternaam.len() + voorvoegsel.map_or(0, str::len) + 2);
    for part in [voorvoegsel.unwrap_or(""), inverted, main] {
        folded.push(' ');
        fold_into(&mut folded, part);
    }
    let is_prefix = |w: &&str| PREFIX_WORDS.binary_search(w).is_ok();
    let mut key = String::with_capacity(folded.len() + 1);
    for word in folded.split_whitespace().filter(|w| !is_prefix(w)) {
        push_word(&mut key, " ", word);
    }
    if key.is_empty() {
        // Prefix words only: all of it is the name.
        folded.split_whitespace().for_each(|word| push_word(&mut key, " ", word));
        return key;
    }
    let mut separator = ", ";
    for word in folded.split_whitespace().filter(is_prefix) {
        push_word(&mut key, separator, word);
        separator = " ";
    }
    key
}

/// Appends `word` to `key`, after `separator` unless `key` is empty.
fn push_word(key: &mut String, separator: &str, word: &str) {
    if !key.is_empty() {
        key.push_str(separator);
    }
    key.push_str(word);
}

/// Appends `part` folded (step 2; everything that is not a letter or digit becomes a space).
fn fold_into(folded: &mut String, part: &str) {
    if part.is_ascii() {
        // ASCII is its own NFKD and has no combining marks (most names).
        folded.extend(
            part.bytes()
                .map(|b| if b.is_ascii_alphanumeric() { b.to_ascii_lowercase() } else { b' ' } as char),
        );
        return;
    }
    for c in part.nfkd().filter(|c| !is_combining_mark(*c)) {
        fold_char(folded, c);
    }
}

/// Appends one decomposed character folded: lower case, a few letters that do not decompose
/// spelled out, a space for anything that is not a letter or digit.
fn fold_char(folded: &mut String, c: char) {
    match c {
        'ß' | 'ẞ' => folded.push_str("ss"),
        'æ' | 'Æ' => folded.push_str("ae"),
        'œ' | 'Œ' => folded.push_str("oe"),
        'ø' | 'Ø' => folded.push('o'),
        'ł' | 'Ł' => folded.push('l'),
        'đ' | 'Đ' => folded.push('d'),
        'ı' => folded.push('i'),
        c if c.is_alphanumeric() => folded.extend(c.to_lowercase()),
        _ => folded.push(' '),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surname_folds_case_diacritics_and_punctuation() {
        assert_eq!(surname_key(None, "Çelik"), "celik");
        assert_eq!(surname_key(None, "Öztürk"), "ozturk");
        assert_eq!(surname_key(None, "Strauß"), "strauss");
        assert_eq!(surname_key(None, "Ĳzerman"), "ijzerman");
        assert_eq!(surname_key(Some("'t"), "Hart"), "hart, t");
        assert_eq!(surname_key(None, "'T Hart"), "hart, t");
        assert_eq!(surname_key(None, "Jansen-van der Berg"), surname_key(None, "jansen van der  berg"));
        assert_eq!(surname_key(None, "Ter"), "ter");
        assert_eq!(surname_key(Some("de"), "Vries"), surname_key(None, "Vries, de"));
        assert_ne!(surname_key(None, "Vries"), surname_key(None, "de Vries"));
    }

    #[test]
    fn prefix_words_are_sorted_for_the_binary_search() {
        assert!(PREFIX_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    /// The rules written out the plain way (one string, one pass per step, the same letters
    /// folded): the definition the two-allocation version above must agree with.
    fn by_the_rules(voorvoegsel: Option<&str>, achternaam: &str) -> String {
        let (main, inverted) = achternaam.split_once(',').unwrap_or((achternaam, ""));
        let full = format!("{} {} {}", voorvoegsel.unwrap_or(""), inverted, main);
        let mut folded = String::new();
        full.nfkd().filter(|c| !is_combining_mark(*c)).for_each(|c| fold_char(&mut folded, c));
        let words: Vec<&str> = folded.split_whitespace().collect();
        let is_prefix = |w: &&str| PREFIX_WORDS.binary_search(w).is_ok();
        let name: Vec<&str> = words.iter().copied().filter(|w| !is_prefix(w)).collect();
        if name.is_empty() {
            return words.join(" ");
        }
        let prefix: Vec<&str> = words.iter().copied().filter(is_prefix).collect();
        if prefix.is_empty() { name.join(" ") } else { format!("{}, {}", name.join(" "), prefix.join(" ")) }
    }

    #[test]
    fn agrees_with_the_rules_written_out() {
        let names = [
            "",
            " ",
            ",",
            "Berg",
            "Berg, van der",
            "van der Berg",
            "Van Der Bérg",
            "BERG VAN DER",
            "Ter",
            "ter, van",
            "van",
            "'t",
            "'T Hart",
            "Hart, 't",
            "Jansen-van der Berg",
            "d'Ancona",
            "O'Neill",
            "Çelik",
            "Strauß",
            "Ĳzerman",
            "Øster, van",
            "Łukasz",
            "Đorđević",
            "Ærø",
            "Œuvre",
            "İyi",
            "ıyı",
            "Müller-Lüdenscheidt",
            "de la Cruz y Vega",
            "Vries, de, van",
            "  van   den   Broek  ",
            "Berg2",
            "1234",
            "Smit (geb. Jansen)",
            "Jansen—de Boer",
            "Nguyễn",
            "김",
            "Ｖａｎ Ｄｉｊｋ",
        ];
        let prefixes = [None, Some(""), Some("van der"), Some("'t"), Some("Van Den"), Some("dé")];
        for name in names {
            for prefix in prefixes {
                assert_eq!(surname_key(prefix, name), by_the_rules(prefix, name), "{prefix:?} {name:?}");
            }
        }
    }
}
