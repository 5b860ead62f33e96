//! The documents that describe the house, held against the house.
//!
//! Tables that a test checks are marked in the Markdown with a comment line right
//! above them, so that a reader sees which tables cannot drift:
//! `<!-- crate table -->` and `<!-- module table: services/core/src -->`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::workspace::{members, workspace_root};

const ARCHITECTURE: &str = "docs/architecture.md";

/// `(first cell, second cell)` of every row of each table marked `marker…` in `text`,
/// by the rest of the marker line (`services/core/src` for a module table).
fn marked_tables(text: &str, marker: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut tables = BTreeMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix(&format!("<!-- {marker}")) else {
            continue;
        };
        let key = rest
            .trim_end_matches("-->")
            .trim()
            .trim_start_matches(':')
            .trim();
        let mut rows = Vec::new();
        while let Some(row) = lines.next_if(|l| l.trim_start().starts_with('|')) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            // The header and the separator have no `code` in their first cell.
            if cells.len() < 3 || !cells[1].contains('`') {
                continue;
            }
            rows.push((cells[1].to_string(), cells[2].to_string()));
        }
        tables.insert(key.to_string(), rows);
    }
    tables
}

/// The `code` spans of a cell.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(workspace_root().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn crate_table_matches_the_workspace() {
    let tables = marked_tables(&read(ARCHITECTURE), "crate table");
    let rows = tables
        .values()
        .next()
        .unwrap_or_else(|| panic!("{ARCHITECTURE} has no table marked <!-- crate table -->"));
    let documented: BTreeSet<(String, String)> = rows
        .iter()
        .map(|(folder, name)| {
            let folder = code_spans(folder).concat();
            let name = code_spans(name).first().cloned().unwrap_or_default();
            (folder.trim_end_matches('/').to_string(), name)
        })
        .collect();
    let actual: BTreeSet<(String, String)> =
        members().into_iter().map(|m| (m.folder, m.name)).collect();
    let missing: Vec<_> = actual.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&actual).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{ARCHITECTURE}'s crate table is out of date: crates not listed {missing:?}, \
         rows for no crate {extra:?}"
    );
}

pub fn module_tables_match_the_tree() {
    let root = workspace_root();
    let tables = marked_tables(&read(ARCHITECTURE), "module table");
    assert!(
        tables.contains_key("services/core/src"),
        "{ARCHITECTURE} has no <!-- module table: services/core/src --> table"
    );
    let mut problems = Vec::new();
    for (source_dir, rows) in &tables {
        let actual = folders_with_entries(&root.join(source_dir));
        let documented: BTreeMap<String, BTreeSet<String>> = rows
            .iter()
            .map(|(folder, entries)| {
                let folder = code_spans(folder).concat();
                (folder, code_spans(entries).into_iter().collect())
            })
            .collect();
        for (folder, entries) in &actual {
            match documented.get(folder) {
                None => problems.push(format!("{source_dir}: no row for `{folder}`")),
                Some(listed) if listed != entries => problems.push(format!(
                    "{source_dir}: `{folder}` lists {listed:?}, the folder has {entries:?}"
                )),
                Some(_) => {}
            }
        }
        for folder in documented.keys().filter(|f| !actual.contains_key(*f)) {
            problems.push(format!("{source_dir}: row `{folder}` names no folder"));
        }
    }
    assert!(
        problems.is_empty(),
        "{ARCHITECTURE}'s module tables are out of date:\n{}",
        problems.join("\n")
    );
}

/// Each folder under `dir` that holds Rust files (`./` for `dir` itself), with its
/// `.rs` files and the sub-folders that hold Rust files (written `name/`).
fn folders_with_entries(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    collect_folder(dir, dir, &mut found);
    found
}

fn collect_folder(top: &Path, dir: &Path, found: &mut BTreeMap<String, BTreeSet<String>>) -> bool {
    let mut entries = BTreeSet::new();
    let mut listing: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    listing.sort();
    for path in listing {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if path.is_dir() {
            if collect_folder(top, &path, found) {
                entries.insert(format!("{name}/"));
            }
        } else if name.ends_with(".rs") {
            entries.insert(name);
        }
    }
    if entries.is_empty() {
        return false;
    }
    let relative = dir.strip_prefix(top).unwrap_or(dir).display().to_string();
    let key = if relative.is_empty() {
        "./".to_string()
    } else {
        format!("{relative}/")
    };
    found.insert(key, entries);
    true
}

/// Every `--flag` and `[env: NAME]` of one subcommand's `--help`.
fn flags_of(binary: &str, subcommand: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let output = Command::new(binary)
        .args([subcommand, "--help"])
        .output()
        .expect("the binary runs");
    let help = String::from_utf8_lossy(&output.stdout);
    let mut flags = BTreeSet::new();
    let mut variables = BTreeSet::new();
    for word in help.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == ']') {
        if let Some(flag) = word
            .strip_prefix("--")
            .filter(|f| f.len() > 1 && *f != "help" && *f != "version")
        {
            flags.insert(format!("--{flag}"));
        }
        if word.starts_with("OHJAAMO_") {
            variables.insert(word.to_string());
        }
    }
    (flags, variables)
}

fn subcommands(binary: &str) -> Vec<String> {
    let output = Command::new(binary)
        .arg("--help")
        .output()
        .expect("the binary runs");
    let help = String::from_utf8_lossy(&output.stdout);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

pub fn flag_table_is_complete(binary: &str) {
    let readme = read("README.md");
    let (flags, variables) = flags_of(binary, "serve");
    assert!(
        flags.len() > 10,
        "`ohjaamo serve --help` listed too few flags: {flags:?}"
    );
    let table_rows: Vec<&str> = readme.lines().filter(|l| l.starts_with('|')).collect();
    let in_table = |needle: &str| {
        table_rows
            .iter()
            .any(|row| row.contains(&format!("`{needle}`")))
    };
    let missing: Vec<&String> = flags
        .iter()
        .chain(&variables)
        .filter(|f| !in_table(f))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md's configuration table lacks {missing:?}"
    );

    // Variables only `serve` reads: a table row naming one elsewhere is a copy.
    let mut serve_only = variables;
    for other in subcommands(binary).iter().filter(|s| *s != "serve") {
        for variable in flags_of(binary, other).1 {
            serve_only.remove(&variable);
        }
    }
    let docs = workspace_root().join("docs");
    let mut copies = Vec::new();
    for entry in std::fs::read_dir(&docs).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for row in text.lines().filter(|l| l.starts_with('|')) {
            if let Some(variable) = serve_only.iter().find(|v| row.contains(&format!("`{v}`"))) {
                copies.push(format!(
                    "{}: {variable}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        copies.is_empty(),
        "serve's flags belong in README.md's table only (link to it); copies in {copies:?}"
    );
}
