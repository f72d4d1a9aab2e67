//! Word-mark logos: text read on screen that spells an enrolled logo's name is a finding of its
//! own, independent of the keypoints (a name set in another typeface, or too small to match by
//! its shape, still reads).

/// Names shorter than this (letters and digits) are not looked for in text: two or three
/// letters turn up everywhere.
pub const MIN_NAME: usize = 4;

/// Text as it is compared (a logo's name, a line read on screen): lower case, letters and
/// digits only.
pub fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a name is long enough to look for in text.
pub fn searchable(name: &str) -> bool {
    compact(name).chars().count() >= MIN_NAME
}

/// Edits tolerated for a name of `len` letters: none in a word of up to 5 (one edit turns
/// "Sony" into "Song"), one up to 9, two beyond.
fn tolerance(len: usize) -> usize {
    match len {
        0..=5 => 0,
        6..=9 => 1,
        _ => 2,
    }
}

/// Where `name` is written in `line`, if it is: the span of the line's characters (as
/// fractions of its length, to place it in the line's box) and how closely it is spelled
/// (1 exact). The name must cover whole words of the line.
pub fn find(name: &str, line: &str) -> Option<(f32, f32, f32)> {
    if !searchable(name) {
        return None;
    }
    let target = compact(name);
    let len = target.chars().count();
    // Words of the line with their character offsets.
    let chars: Vec<char> = line.chars().collect();
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, chars.len()));
    }
    let name_words = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let span_words = name_words.count().max(1) + 2;
    let mut best: Option<(usize, usize, usize)> = None;
    for a in 0..words.len() {
        for b in a..words.len().min(a + span_words) {
            let text: String = compact(&chars[words[a].0..words[b].1].iter().collect::<String>());
            if text.chars().count() > len + 2 {
                break;
            }
            let d = strsim::levenshtein(&text, &target);
            if d <= tolerance(len) && best.is_none_or(|(_, _, bd)| d < bd) {
                best = Some((words[a].0, words[b].1, d));
            }
        }
    }
    let (s, e, d) = best?;
    let n = chars.len().max(1) as f32;
    Some((s as f32 / n, e as f32 / n, 1.0 - d as f32 / len as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whole_words_in_any_case_and_place() {
        let (s, e, q) = find("Basmati", "PREMIUM BASMATI RICE").unwrap();
        assert_eq!(q, 1.0);
        assert!((s - 8.0 / 20.0).abs() < 1e-6 && (e - 15.0 / 20.0).abs() < 1e-6);
        assert!(find("Pan Ducale", "PANDUCALE").is_some());
        assert!(find("Coca-Cola", "drink coca cola").is_some());
    }

    #[test]
    fn a_misread_letter_is_forgiven_in_long_names_only() {
        assert!(find("Bastoncini", "BAST0NCINI").unwrap().2 < 1.0);
        assert!(find("Sony", "Sonk").is_none());
        assert!(find("Nike", "Nike").is_some());
    }

    #[test]
    fn part_of_a_word_or_a_short_name_is_not_a_match() {
        assert!(find("Apple", "Pineapples").is_none());
        assert!(find("Shell", "Shellfish soup").is_none());
        assert!(find("HP", "HP").is_none(), "too short to look for");
    }
}
