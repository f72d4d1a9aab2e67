//! The small pieces of English grammar the descriptions are built from.

/// "A", "A and B", "A, B and C".
pub fn join(items: &[String]) -> String {
    listed(items, "and")
}

/// "A", "A or B", "A, B or C".
pub fn join_or(items: &[String]) -> String {
    listed(items, "or")
}

fn listed(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// A count as a reader expects it in running text: words up to ten, figures beyond.
pub fn count(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// `text` in double quotes, cut after about `max` characters at a word break (marked with
/// an ellipsis); its own double quotes become single ones so the quote stays unambiguous.
pub fn quote(text: &str, max: usize) -> String {
    let clean = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean = clean.replace('"', "'");
    if clean.chars().count() <= max {
        return format!("\"{clean}\"");
    }
    let cut: String = clean.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    let cut = cut.trim_end_matches([',', ';', ':', ' ']);
    format!("\"{cut}…\"")
}

/// The English name of a language given by its ISO 639-1 code, without the qualifiers ISO
/// adds ("Modern Greek (1453-)" is "Modern Greek").
pub fn language(code: &str) -> Option<String> {
    let name = isolang::Language::from_639_1(code)?.to_name();
    Some(name.split(" (").next().unwrap_or(name).to_string())
}

/// End a sentence with a full stop unless a quote already ended it.
pub fn full_stop(mut s: String) -> String {
    let ended = [".\"", "?\"", "!\"", "…\"", ".", "?", "!"];
    if !ended.iter().any(|e| s.ends_with(e)) {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join(&s(&["Ann"])), "Ann");
        assert_eq!(join(&s(&["Ann", "Bob"])), "Ann and Bob");
        assert_eq!(join(&s(&["Ann", "Bob", "Cy"])), "Ann, Bob and Cy");
        assert_eq!(join_or(&s(&["Ann", "Bob", "Cy"])), "Ann, Bob or Cy");
        assert_eq!(count(2), "two");
        assert_eq!(count(12), "12");
        assert_eq!(capitalise("two people"), "Two people");
    }

    #[test]
    fn long_quotes_are_cut_at_a_word() {
        assert_eq!(quote("say \"hi\"", 40), "\"say 'hi'\"");
        let q = quote("It was the best of times, it was the worst of times", 30);
        assert_eq!(q, "\"It was the best of times, it…\"");
        // A word break early in the cut is not worth losing most of it for; counted in
        // characters, so accented text is not cut short.
        let q = quote(&format!("éééééé {}", "é".repeat(20)), 20);
        assert_eq!(q, format!("\"éééééé {}…\"", "é".repeat(13)));
        assert_eq!(language("el").as_deref(), Some("Modern Greek"));
        assert_eq!(language("fr").as_deref(), Some("French"));
        assert_eq!(language("xx"), None);
    }
}
