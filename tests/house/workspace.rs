//! The workspace as cargo sees it: its members and their library and binary targets.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// A library or binary target of a workspace member.
pub struct Target {
    /// `ohjaamo-core`, or `ohjaamo (bin bench)`.
    pub name: String,
    /// The target's root file (lib.rs, main.rs, src/bin/x.rs).
    pub root: PathBuf,
}

/// A workspace member: its package name and its folder relative to the workspace.
pub struct Member {
    pub name: String,
    pub folder: String,
}

pub fn workspace_root() -> PathBuf {
    metadata()["workspace_root"]
        .as_str()
        .map(PathBuf::from)
        .expect("cargo metadata names the workspace root")
}

pub fn members() -> Vec<Member> {
    let metadata = metadata();
    let root = workspace_root();
    packages(metadata)
        .map(|package| {
            let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
            let folder = manifest.parent().unwrap_or(&manifest);
            Member {
                name: package["name"].as_str().unwrap_or_default().to_string(),
                folder: folder
                    .strip_prefix(&root)
                    .unwrap_or(folder)
                    .display()
                    .to_string(),
            }
        })
        .collect()
}

/// Every library and binary target of every member (tests, benches and build
/// scripts are not part of the house).
pub fn workspace_targets() -> Vec<Target> {
    let metadata = metadata();
    let mut targets = Vec::new();
    for package in packages(metadata) {
        let package_name = package["name"].as_str().unwrap_or_default();
        for target in package["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = target["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let is_lib = kinds.iter().any(|k| k.ends_with("lib"));
            let is_bin = kinds.contains(&"bin");
            if !is_lib && !is_bin {
                continue;
            }
            let name = if is_lib {
                package_name.to_string()
            } else {
                format!(
                    "{package_name} (bin {})",
                    target["name"].as_str().unwrap_or_default()
                )
            };
            targets.push(Target {
                name,
                root: PathBuf::from(target["src_path"].as_str().unwrap_or_default()),
            });
        }
    }
    assert!(targets.len() > 10, "cargo metadata listed too few targets");
    targets
}

fn packages(metadata: &'static Value) -> impl Iterator<Item = &'static Value> {
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |p| members.contains(&p["id"].as_str().unwrap_or_default()))
}

fn metadata() -> &'static Value {
    static METADATA: OnceLock<Value> = OnceLock::new();
    METADATA.get_or_init(read_metadata)
}

fn read_metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}
