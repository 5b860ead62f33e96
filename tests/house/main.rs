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
        let root_dir = target.root.parent().expect("a root file has a folder");
        let room_of = |index: usize| -> Option<String> {
            let path = &graph.files[index].path;
            if *path == target.root {
                return None;
            }
            let relative = path.strip_prefix(root_dir).ok()?;
            Some(
                relative
                    .components()
                    .next()?
                    .as_os_str()
                    .to_string_lossy()
                    .into(),
            )
        };
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
