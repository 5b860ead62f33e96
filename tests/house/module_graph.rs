//! A crate's files and which of them import which: the module tree read from the
//! `mod` declarations, and an arrow from one file to another wherever the first names
//! something the second defines (`use crate::a::B`, `super::x`, an inline
//! `relay::Status`). A `mod x;` declaration is no arrow; a `pub use x::Y` is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::rust_source::{
    code_only, declared_modules, inline_module_depth, is_ident_char, named_paths,
};

/// One file of a crate and where it stands in the module tree.
pub struct ModuleFile {
    pub path: PathBuf,
    /// The module path from the crate root: `[]` for lib.rs, `["http", "bundle"]`.
    pub module: Vec<String>,
}

/// The files of one crate target (a library or a binary) and the arrows between them.
pub struct CrateGraph {
    pub files: Vec<ModuleFile>,
    /// `(from, to)` as indices into `files`; never a file to itself.
    pub arrows: BTreeSet<(usize, usize)>,
    /// The arrows from production code only: not from inline modules (`mod tests`)
    /// nor from `tests.rs` files, which may look anywhere.
    pub production_arrows: BTreeSet<(usize, usize)>,
}

impl CrateGraph {
    /// Reads the target whose root file is `root` (lib.rs, main.rs, a bin's file).
    pub fn read(root: &Path) -> CrateGraph {
        let mut files = Vec::new();
        collect_modules(root, Vec::new(), true, &mut files);
        let by_module: BTreeMap<Vec<String>, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        let read: Vec<FileNames> = files.iter().map(|f| FileNames::read(&f.path)).collect();
        let resolver = Resolver {
            files: &files,
            names: &read,
            by_module,
        };
        let mut arrows = BTreeSet::new();
        let mut production_arrows = BTreeSet::new();
        for (from, names) in read.iter().enumerate() {
            let test_file = files[from]
                .path
                .file_name()
                .is_some_and(|n| n == "tests.rs");
            for named in &names.paths {
                let target = resolver.resolve(from, named.inline_depth, &named.segments, 4);
                if let Some(to) = target.filter(|&to| to != from) {
                    arrows.insert((from, to));
                    if named.inline_depth == 0 && !test_file {
                        production_arrows.insert((from, to));
                    }
                }
            }
        }
        CrateGraph {
            files,
            arrows,
            production_arrows,
        }
    }

    /// The groups of two or more files that import each other round, each sorted.
    pub fn circles(&self) -> Vec<Vec<usize>> {
        strongly_connected(self.files.len(), &self.arrows)
            .into_iter()
            .filter(|group| group.len() > 1)
            .collect()
    }
}

/// Walks `mod` declarations from `file`. Children of lib.rs, main.rs and mod.rs live
/// beside them; children of `foo.rs` live in `foo/`.
fn collect_modules(
    file: &Path,
    module: Vec<String>,
    is_dir_owner: bool,
    out: &mut Vec<ModuleFile>,
) {
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    let here = file.parent().unwrap_or(Path::new("."));
    let children_dir = if is_dir_owner {
        here.to_path_buf()
    } else {
        here.join(file.file_stem().unwrap_or_default())
    };
    out.push(ModuleFile {
        path: file.to_path_buf(),
        module: module.clone(),
    });
    for (name, path_attribute) in declared_modules(&text) {
        let mut child_module = module.clone();
        child_module.push(name.clone());
        if let Some(relative) = path_attribute {
            collect_modules(&here.join(relative), child_module, false, out);
            continue;
        }
        let flat = children_dir.join(format!("{name}.rs"));
        let nested = children_dir.join(&name).join("mod.rs");
        if flat.exists() {
            collect_modules(&flat, child_module, false, out);
        } else if nested.exists() {
            collect_modules(&nested, child_module, true, out);
        }
    }
}

/// What one file names: every path (with how many inline modules enclose it) and
/// the names its top-level `use` statements bring into scope.
struct FileNames {
    paths: Vec<Named>,
    imports: BTreeMap<String, Vec<String>>,
    /// `use x::*` paths (the glob's module).
    globs: Vec<Vec<String>>,
    code: String,
}

struct Named {
    segments: Vec<String>,
    inline_depth: usize,
}

impl FileNames {
    fn read(path: &Path) -> FileNames {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let code = code_only(&text);
        let depth = inline_module_depth(&code);
        let mut paths = Vec::new();
        let mut imports = BTreeMap::new();
        let mut globs = Vec::new();
        for named in named_paths(&code) {
            let inline_depth = depth.get(named.at).copied().unwrap_or(0) as usize;
            match (&named.binds, inline_depth) {
                (Some(name), 0) => {
                    imports.insert(name.clone(), named.segments.clone());
                }
                (None, 0) if named.is_glob => globs.push(named.segments.clone()),
                _ => {}
            }
            paths.push(Named {
                segments: named.segments,
                inline_depth,
            });
        }
        FileNames {
            paths,
            imports,
            globs,
            code,
        }
    }

    /// Whether the file's own code defines `item` (not inside an inline module).
    fn defines(&self, item: &str) -> bool {
        let kinds = [
            "struct",
            "enum",
            "fn",
            "const",
            "static",
            "type",
            "trait",
            "union",
            "macro_rules!",
        ];
        let words: Vec<&str> = self
            .code
            .split(|c: char| !(is_ident_char(c) || c == '!'))
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(2)
            .any(|pair| kinds.contains(&pair[0]) && pair[1] == item)
    }
}

struct Resolver<'a> {
    files: &'a [ModuleFile],
    names: &'a [FileNames],
    by_module: BTreeMap<Vec<String>, usize>,
}

impl Resolver<'_> {
    /// The file that defines what a path named in file `from` leads to, if it is one of
    /// the crate's: modules are walked down, and a name that the module it stops at
    /// only re-exports (`pub use x::Item`) is followed to where it comes from. Paths
    /// starting with a child module's name (`relay::X` in lib.rs) count as relative to
    /// the module, as they do in Rust 2018 and later.
    fn resolve(
        &self,
        from: usize,
        inline_depth: usize,
        segments: &[String],
        follow: u8,
    ) -> Option<usize> {
        let module = &self.files[from].module;
        let (mut base, rest): (Vec<String>, &[String]) = match segments.first()?.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (module.to_vec(), &segments[1..]),
            "super" => {
                let supers = segments.iter().take_while(|s| *s == "super").count();
                let up = supers.saturating_sub(inline_depth);
                if up > module.len() {
                    return None;
                }
                (module[..module.len() - up].to_vec(), &segments[supers..])
            }
            first => {
                let mut child = module.to_vec();
                child.push(first.to_string());
                if inline_depth > 0 || !self.by_module.contains_key(&child) {
                    return None;
                }
                (module.to_vec(), segments)
            }
        };
        let mut walked = 0;
        for segment in rest {
            let mut deeper = base.clone();
            deeper.push(segment.clone());
            if !self.by_module.contains_key(&deeper) {
                break;
            }
            base = deeper;
            walked += 1;
        }
        let file = *self.by_module.get(&base)?;
        let (Some(item), true) = (rest.get(walked), follow > 0) else {
            return Some(file);
        };
        if let Some(path) = self.names[file].imports.get(item) {
            return self.resolve(file, 0, path, follow - 1).or(Some(file));
        }
        if self.names[file].defines(item) {
            return Some(file);
        }
        // `pub use model::*`: the item is the glob module's, if it defines it.
        for glob in &self.names[file].globs {
            let mut path = glob.clone();
            path.push(item.clone());
            if let Some(found) = self.resolve(file, 0, &path, follow - 1)
                && found != file
                && self.names[found].defines(item)
            {
                return Some(found);
            }
        }
        Some(file)
    }
}

/// Tarjan's strongly connected components over `0..nodes`.
pub fn strongly_connected(nodes: usize, arrows: &BTreeSet<(usize, usize)>) -> Vec<Vec<usize>> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for &(from, to) in arrows {
        next[from].push(to);
    }
    let mut state = Tarjan {
        next,
        index: vec![None; nodes],
        low: vec![0; nodes],
        on_stack: vec![false; nodes],
        stack: Vec::new(),
        counter: 0,
        groups: Vec::new(),
    };
    for node in 0..nodes {
        if state.index[node].is_none() {
            state.visit(node);
        }
    }
    state.groups
}

struct Tarjan {
    next: Vec<Vec<usize>>,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    groups: Vec<Vec<usize>>,
}

impl Tarjan {
    fn visit(&mut self, node: usize) {
        self.index[node] = Some(self.counter);
        self.low[node] = self.counter;
        self.counter += 1;
        self.stack.push(node);
        self.on_stack[node] = true;
        for i in 0..self.next[node].len() {
            let to = self.next[node][i];
            match self.index[to] {
                None => {
                    self.visit(to);
                    self.low[node] = self.low[node].min(self.low[to]);
                }
                Some(index) if self.on_stack[to] => self.low[node] = self.low[node].min(index),
                Some(_) => {}
            }
        }
        if Some(self.low[node]) == self.index[node] {
            let mut group = Vec::new();
            while let Some(top) = self.stack.pop() {
                self.on_stack[top] = false;
                group.push(top);
                if top == node {
                    break;
                }
            }
            group.sort_unstable();
            self.groups.push(group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_is_one_group() {
        let arrows = BTreeSet::from([(0, 1), (1, 2), (2, 0), (2, 3)]);
        let mut groups = strongly_connected(4, &arrows);
        groups.sort();
        assert_eq!(groups, vec![vec![0, 1, 2], vec![3]]);
    }
}
