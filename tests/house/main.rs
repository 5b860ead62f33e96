//! The house's rules, checked against the code so that they cannot drift:
//!
//! - no two files of a crate import each other round (an import circle), and no two
//!   top-level folders of a crate either — a folder's imports point down the flow;
//! - `docs/architecture.md`'s crate table names exactly the workspace's crates, and its
//!   module tables name exactly the files and folders that are there;
//! - the README's configuration table is the one flag table: it names every flag of
//!   `ohjaamo serve`, and no other document keeps a copy.
//!
//! Everything is read from the source tree and `cargo metadata`; nothing is run but
//! cargo and the `ohjaamo` binary's `--help`.

mod docs_check;
mod module_graph;
mod rust_source;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};

use module_graph::{CrateGraph, strongly_connected};
use workspace::{Target, workspace_root, workspace_targets};

#[test]
fn no_crate_has_an_import_circle_between_files() {
    let mut found = Vec::new();
    for target in workspace_targets() {
        let graph = CrateGraph::read(&target.root);
        for circle in graph.circles() {
            found.push(describe_circle(&target, &graph, &circle));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn no_crate_has_folders_that_import_each_other() {
    let mut found = Vec::new();
    for target in workspace_targets() {
        let graph = CrateGraph::read(&target.root);
        let room_of = |index: usize| room(&target, &graph, index);
        let rooms: Vec<String> = (0..graph.files.len())
            .filter_map(room_of)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let number: BTreeMap<&str, usize> = rooms
            .iter()
            .enumerate()
            .map(|(i, r)| (r.as_str(), i))
            .collect();
        let mut arrows = BTreeSet::new();
        for &(from, to) in &graph.arrows {
            if let (Some(a), Some(b)) = (room_of(from), room_of(to))
                && a != b
            {
                arrows.insert((number[a.as_str()], number[b.as_str()]));
            }
        }
        for group in strongly_connected(rooms.len(), &arrows) {
            if group.len() > 1 {
                let names: Vec<&str> = group.iter().map(|&i| rooms[i].as_str()).collect();
                found.push(format!("{}: {}", target.name, names.join(" ↔ ")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "folders that import each other (a folder's imports point down the flow):\n{}",
        found.join("\n")
    );
}

/// The top-level folder (or file) of the crate that file `index` stands in; `None`
/// for the crate's root file.
fn room(target: &Target, graph: &CrateGraph, index: usize) -> Option<String> {
    let path = &graph.files[index].path;
    if *path == target.root {
        return None;
    }
    let root_dir = target.root.parent()?;
    let relative = path.strip_prefix(root_dir).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    Some(first.trim_end_matches(".rs").to_string())
}

/// A crate whose root file lists its folders in a doc table (`//! | `http` | …`),
/// top of the flow first, keeps to that order: a file imports only from its own
/// folder or from folders below it, and nothing imports the root (test code may look
/// anywhere).
#[test]
fn folders_keep_the_order_their_crate_declares() {
    let mut found = Vec::new();
    let mut declaring = 0;
    for target in workspace_targets() {
        let text = std::fs::read_to_string(&target.root).unwrap_or_default();
        let order: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("//! | `"))
            .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
            .collect();
        if order.is_empty() {
            continue;
        }
        declaring += 1;
        let graph = CrateGraph::read(&target.root);
        let rank = |index: usize| {
            let room = room(&target, &graph, index)?;
            order.iter().position(|f| *f == room)
        };
        for &(from, to) in &graph.production_arrows {
            let show = |i: usize| graph.files[i].module.join("::");
            match (rank(from), rank(to)) {
                (Some(a), Some(b)) if a <= b => {}
                (None, _) if graph.files[from].path == target.root => {}
                _ => found.push(format!(
                    "{}: {} imports {}",
                    target.name,
                    show(from),
                    show(to)
                )),
            }
        }
    }
    assert!(
        declaring > 0,
        "no crate declares its folders' order (services/core's lib.rs did)"
    );
    assert!(
        found.is_empty(),
        "imports against the declared order of folders (or from a folder the table does not name):\n{}",
        found.join("\n")
    );
}

/// One line per arrow inside the circle, so the message says what to move.
fn describe_circle(target: &Target, graph: &CrateGraph, circle: &[usize]) -> String {
    let root = workspace_root();
    let show = |i: usize| {
        let path = &graph.files[i].path;
        path.strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut text = format!(
        "{}: {} files import each other round:",
        target.name,
        circle.len()
    );
    for &(from, to) in &graph.arrows {
        if circle.contains(&from) && circle.contains(&to) {
            text.push_str(&format!("\n  {} -> {}", show(from), show(to)));
        }
    }
    text
}

#[test]
fn the_architecture_crate_table_names_every_crate() {
    docs_check::crate_table_matches_the_workspace();
}

#[test]
fn the_architecture_module_tables_match_the_tree() {
    docs_check::module_tables_match_the_tree();
}

#[test]
fn the_readme_flag_table_is_the_only_one_and_complete() {
    docs_check::flag_table_is_complete(env!("CARGO_BIN_EXE_ohjaamo"));
}
