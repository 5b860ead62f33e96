//! The core's layering, checked over its source: a file imports only from its own
//! folder or from folders below it in the table of `src/lib.rs`'s doc (read from
//! there, so the doc and the check cannot drift apart), and no files import each
//! other in a circle.
//!
//! A file imports another when it names something of it through `crate::…` or
//! `super::…` (in a `use` or inline). A `mod x;` declaration is not an import; a
//! `pub use x::…` is. Test modules (`#[cfg(test)]` and `tests.rs` files) are left
//! out: they may look anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

#[test]
fn folders_import_only_down_the_flow() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = folder_order(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(
        order.len() >= 5,
        "lib.rs's doc lists the folders: {order:?}"
    );
    let graph = imports(&src);
    let rank = |m: &Module| order.iter().position(|f| *f == m[0]);
    let mut wrong = Vec::new();
    for (file, targets) in &graph {
        let Some(own) = rank(file) else {
            wrong.push(format!(
                "{} is in no folder of lib.rs's table",
                file.join("/")
            ));
            continue;
        };
        for target in targets {
            match rank(target) {
                Some(r) if r >= own => {}
                _ => wrong.push(format!("{} imports {}", file.join("/"), target.join("/"))),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // Depth-first, colouring files: a file met again while still open closes a circle.
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        let mut open: Vec<&Module> = Vec::new();
        if let Some(circle) = visit(start, &graph, &mut open, &mut done) {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
}

fn visit<'a>(
    file: &'a Module,
    graph: &'a BTreeMap<Module, BTreeSet<Module>>,
    open: &mut Vec<&'a Module>,
    done: &mut BTreeSet<&'a Module>,
) -> Option<Vec<String>> {
    if let Some(at) = open.iter().position(|m| *m == file) {
        let mut circle: Vec<String> = open[at..].iter().map(|m| m.join("/")).collect();
        circle.push(file.join("/"));
        return Some(circle);
    }
    if !done.insert(file) {
        return None;
    }
    open.push(file);
    for target in graph.get(file).into_iter().flatten() {
        if let Some(circle) = visit(target, graph, open, done) {
            return Some(circle);
        }
    }
    open.pop();
    None
}

/// The folders of the table in lib.rs's doc (`//! | \`http\` | …`), top first.
fn folder_order(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|l| l.strip_prefix("//! | `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Each file's module (`["write", "apply"]`) and the files it imports.
fn imports(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    walk(src, &mut files);
    let modules: BTreeMap<Module, PathBuf> = files
        .into_iter()
        .filter_map(|p| Some((module_of(src, &p)?, p)))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, path) in &modules {
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Comments go (doc links name paths without importing them); a `use` may
        // span lines, so the rest is read as one text.
        let code: Vec<&str> = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        let mut targets = BTreeSet::new();
        for named in paths_in(&code.join("\n"), module, path.ends_with("mod.rs")) {
            // The longest prefix that is a file is the file the name is from.
            let target = (1..=named.len())
                .rev()
                .map(|n| named[..n].to_vec())
                .find(|m| modules.contains_key(m));
            if let Some(target) = target.filter(|t| t != module) {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `write/apply.rs` → `["write", "apply"]`, `log/relay/mod.rs` → `["log", "relay"]`;
/// `None` for lib.rs (the top, which nothing imports) and test files.
fn module_of(src: &Path, path: &Path) -> Option<Module> {
    let relative = path.strip_prefix(src).ok()?.with_extension("");
    let mut module: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    let skip = module == ["lib"] || module.last().is_some_and(|m| m == "tests");
    (!skip).then_some(module)
}

/// The absolute paths a line names through `crate::` or `super::`, braces expanded
/// (`crate::write::{holds, occupancy}` names both).
fn paths_in(code: &str, module: &Module, is_mod_rs: bool) -> Vec<Module> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for (at, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        if at >= 7 && &code[at - 7..at] == "super::" {
            continue; // the second `super::` of `super::super::`, read with the first
        }
        let mut rest = &code[at..];
        // A mod.rs file is its folder's module; `super` is the folder above.
        let mut base: Module = if is_mod_rs {
            module.clone()
        } else {
            module[..module.len() - 1].to_vec()
        };
        if let Some(r) = rest.strip_prefix("crate::") {
            base.clear();
            rest = r;
        }
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        expand(base, rest, &mut found);
    }
    found
}

/// Reads `a::b::{c, d::e}` after `base` into the paths it names.
fn expand(mut base: Module, rest: &str, found: &mut Vec<Module>) {
    let mut rest = rest;
    loop {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            base.push(rest[..end].to_owned());
        }
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) if r.starts_with('{') => {
                let inner = &r[1..r.find('}').unwrap_or(r.len())];
                for item in inner.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    let item = if item == "self" { "" } else { item };
                    expand(base.clone(), item, found);
                }
                return;
            }
            Some(r) => rest = r,
            None => break,
        }
    }
    found.push(base);
}
