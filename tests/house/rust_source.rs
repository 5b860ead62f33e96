//! Just enough of Rust's surface to read a file's module declarations and the paths it
//! names: comments, strings and character literals are blanked first, so a `crate::x`
//! in a doc comment or a log message is not taken for an import.

/// The text with comments, string literals and character literals replaced by spaces
/// (line breaks kept, so positions still tell lines apart).
pub fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let end = if c == '/' && next == Some('/') {
            line_end(&chars, i)
        } else if c == '/' && next == Some('*') {
            block_comment_end(&chars, i)
        } else if let Some(end) = raw_string_end(&chars, i) {
            end
        } else if c == '"' {
            string_end(&chars, i)
        } else if c == '\'' {
            char_literal_end(&chars, i).unwrap_or(i + 1)
        } else {
            i + 1
        };
        if end == i + 1 {
            out.push(c);
        } else {
            for &skipped in &chars[i..end] {
                out.push(if skipped == '\n' { '\n' } else { ' ' });
            }
        }
        i = end;
    }
    out
}

fn line_end(chars: &[char], from: usize) -> usize {
    chars[from..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |p| from + p)
}

/// Block comments nest in Rust.
fn block_comment_end(chars: &[char], from: usize) -> usize {
    let mut depth = 0;
    let mut i = from;
    while i + 1 < chars.len() {
        match (chars[i], chars[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    chars.len()
}

fn string_end(chars: &[char], from: usize) -> usize {
    let mut i = from + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// `r"…"`, `r#"…"#`, `br"…"` and the like; `None` where `from` starts none.
fn raw_string_end(chars: &[char], from: usize) -> Option<usize> {
    let before_is_ident = from > 0 && is_ident_char(chars[from - 1]);
    if before_is_ident {
        return None;
    }
    let mut i = from;
    if chars.get(i) == Some(&'b') || chars.get(i) == Some(&'c') {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    i += hashes;
    if chars.get(i) != Some(&'"') {
        return None;
    }
    i += 1;
    while i < chars.len() {
        if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&c| c == '#') {
            let end = i + 1 + hashes;
            if end <= chars.len() {
                return Some(end);
            }
        }
        i += 1;
    }
    Some(chars.len())
}

/// `'a'`, `'\n'`, `'\u{e4}'`; `None` for a lifetime or a label.
fn char_literal_end(chars: &[char], from: usize) -> Option<usize> {
    match chars.get(from + 1)? {
        '\\' => {
            let close = chars[from + 2..].iter().position(|&c| c == '\'')?;
            Some(from + 2 + close + 1)
        }
        _ if chars.get(from + 2) == Some(&'\'') => Some(from + 3),
        _ => None,
    }
}

pub fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The modules a file declares with `mod name;` (files of their own), with the
/// `#[path = "…"]` each may carry. Inline modules (`mod tests { … }`) are part of
/// the file and not listed. Reads the original text for `#[path]`, whose value is a
/// string.
pub fn declared_modules(text: &str) -> Vec<(String, Option<String>)> {
    let code = code_only(text);
    let original: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (number, line) in code.lines().enumerate() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        let Some(at) = words.iter().position(|w| *w == "mod") else {
            continue;
        };
        let leading_ok = words[..at]
            .iter()
            .all(|w| w.starts_with("pub") || w.starts_with("#[") || w.ends_with(']'));
        let Some(name) = words.get(at + 1) else {
            continue;
        };
        if !leading_ok || !line.trim_end().ends_with(';') {
            continue;
        }
        let path = number
            .checked_sub(1)
            .and_then(|above| original.get(above))
            .and_then(|above| path_attribute(above));
        found.push((name.trim_start_matches("r#").to_string(), path));
    }
    found
}

fn path_attribute(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("#[path")?;
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_string())
}

/// A path the code names and where it stands (a char offset into the code). A path
/// of a `use` statement also says the name it brings into scope (`c` for
/// `use a::b as c`; none for a glob).
pub struct NamedPath {
    pub at: usize,
    pub segments: Vec<String>,
    pub binds: Option<String>,
    pub is_glob: bool,
}

/// Every multi-segment path this file's code names: `use a::{b::c, d}` gives `a::b::c`
/// and `a::d`; an inline `crate::x::y(…)` or `relay::Status` gives itself. Which of
/// them lead to another file of the crate is the resolver's business.
pub fn named_paths(code: &str) -> Vec<NamedPath> {
    let mut paths = Vec::new();
    for (at, _, statement) in use_statements(code) {
        let mut expanded = Vec::new();
        expand_use_tree(&statement, &mut Vec::new(), &mut expanded);
        paths.extend(expanded.into_iter().map(|(segments, binds)| NamedPath {
            at,
            is_glob: binds.is_none(),
            segments,
            binds,
        }));
    }
    paths.extend(inline_paths(code));
    paths
}

/// How many inline `mod name { … }` blocks enclose each char offset of the code:
/// `super` inside `mod tests { … }` means the file's own module.
pub fn inline_module_depth(code: &str) -> Vec<u8> {
    let chars: Vec<char> = code.chars().collect();
    let mut depth_at = vec![0u8; chars.len() + 1];
    let mut braces: Vec<bool> = Vec::new();
    let mut depth = 0u8;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '{' => {
                let is_module = opens_inline_module(&chars[..i]);
                braces.push(is_module);
                if is_module {
                    depth += 1;
                }
            }
            '}' => depth = depth.saturating_sub(u8::from(braces.pop() == Some(true))),
            _ => {}
        }
        depth_at[i] = depth;
        i += 1;
    }
    depth_at[chars.len()] = depth;
    depth_at
}

/// Whether the text before a `{` ends in `mod name`.
fn opens_inline_module(before: &[char]) -> bool {
    let text: String = before[before.len().saturating_sub(80)..].iter().collect();
    let mut words = text.split_whitespace().rev();
    let name = words.next().unwrap_or("");
    words.next() == Some("mod") && name.chars().all(is_ident_char)
}

/// The bodies of `use …;` statements, with where each starts and ends.
fn use_statements(code: &str) -> Vec<(usize, usize, String)> {
    let mut statements = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i + 3 < bytes.len() {
        let starts_word = i == 0 || !is_ident_char(bytes[i - 1]);
        if starts_word
            && bytes[i..i + 3] == ['u', 's', 'e']
            && bytes[i + 3].is_whitespace()
            && !bytes[..i].ends_with(&['.'])
        {
            let end = bytes[i..]
                .iter()
                .position(|&c| c == ';')
                .map_or(bytes.len(), |p| i + p);
            let body: String = bytes[i + 3..end].iter().collect();
            statements.push((i, end, body.trim().trim_start_matches("::").to_string()));
            i = end;
        } else {
            i += 1;
        }
    }
    statements
}

/// `a::{b, c::{d as e}}` → `a::b` binding `b`, `a::c::d` binding `e` (`self` inside
/// braces meaning the prefix itself; a glob binds nothing).
fn expand_use_tree(
    tree: &str,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = segments(&tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let depth_before = prefix.len();
        prefix.extend(head);
        for part in split_top_level(inner) {
            expand_use_tree(part, prefix, out);
        }
        prefix.truncate(depth_before);
        return;
    }
    let mut path = prefix.clone();
    for segment in segments(tree) {
        if segment == "self" && !path.is_empty() {
            continue;
        }
        path.push(segment);
    }
    let alias = tree.split(" as ").nth(1).map(|a| a.trim().to_string());
    let binds = if tree.ends_with('*') {
        None
    } else {
        alias.or_else(|| path.last().cloned())
    };
    if !path.is_empty() {
        out.push((path, binds));
    }
}

fn segments(text: &str) -> Vec<String> {
    text.split("::")
        .map(|s| s.trim().trim_start_matches("r#"))
        .filter(|s| !s.is_empty() && *s != "*")
        .map(|s| {
            s.split(|c: char| !is_ident_char(c))
                .next()
                .unwrap_or(s)
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// `crate::a::b`, `super::super::x`, `relay::Status` written in expressions and types
/// (not in `use` statements, which [`use_statements`] reads).
fn inline_paths(code: &str) -> Vec<NamedPath> {
    let chars: Vec<char> = code.chars().collect();
    let in_use = use_ranges(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = is_ident_char(chars[i])
            && (i == 0 || !(is_ident_char(chars[i - 1]) || chars[i - 1] == ':'));
        if !starts_word {
            i += 1;
            continue;
        }
        let end = chars[i..]
            .iter()
            .position(|&c| !(is_ident_char(c) || c == ':'))
            .map_or(chars.len(), |p| i + p);
        let text: String = chars[i..end].iter().collect();
        let inside_use = in_use.iter().any(|&(from, to)| (from..to).contains(&i));
        if text.contains("::") && !inside_use {
            let segments = segments(&text);
            if segments.len() > 1 {
                paths.push(NamedPath {
                    at: i,
                    segments,
                    binds: None,
                    is_glob: false,
                });
            }
        }
        i = end.max(i + 1);
    }
    paths
}

fn use_ranges(code: &str) -> Vec<(usize, usize)> {
    use_statements(code)
        .into_iter()
        .map(|(from, to, _)| (from, to))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_strings_are_blanked() {
        let code = code_only(
            "let a = \"crate::x\"; // crate::y\n/* crate::z */ let c = 'a'; fn f<'a>() {}",
        );
        assert!(!code.contains("crate::"));
        assert!(code.contains("fn f<'a>"));
    }

    #[test]
    fn use_trees_expand() {
        let code = "use crate::{a::b, c::{self, d as e}};\nuse std::io;\nfn f() { super::g::h(); }";
        let paths = named_paths(code);
        let texts: Vec<String> = paths.iter().map(|p| p.segments.join("::")).collect();
        assert_eq!(
            texts,
            [
                "crate::a::b",
                "crate::c",
                "crate::c::d",
                "std::io",
                "super::g::h"
            ]
        );
    }

    #[test]
    fn inline_modules_are_counted() {
        let code =
            "fn a() {}\nmod tests {\n    use super::*;\n    fn b() { if x { y } }\n}\nfn c() {}";
        let depth = inline_module_depth(code);
        let at = |needle: &str| depth[code.find(needle).unwrap()];
        assert_eq!(
            (at("fn a"), at("use super"), at("y }"), at("fn c")),
            (0, 1, 1, 0)
        );
    }
}
