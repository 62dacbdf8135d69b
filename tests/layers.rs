//! Layers point down: every top-level module uses only modules that
//! `src/lib.rs` declares before it. Read from the `crate::` paths of each
//! module's files, as `scripts/modgraph.py` draws them (test code, after
//! `#[cfg(test)]` or in `tests.rs` files, may use anything).

// The helpers below are test code, outside `#[test]`, where clippy would
// otherwise flag every `unwrap`.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// The modules `lib.rs` declares, in order.
fn declared_order(lib: &str) -> Vec<String> {
    let declaration = Regex::new(r"(?m)^pub mod (\w+);").unwrap();
    declaration
        .captures_iter(lib)
        .map(|c| c[1].to_owned())
        .collect()
}

/// The top-level modules a file's code names through `crate::`.
fn used_modules(code: &str) -> BTreeSet<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or_default();
    let path = Regex::new(r"crate::(\w+)").unwrap();
    let group = Regex::new(r"crate::\{([^;]*?)\}").unwrap();
    let first = Regex::new(r"(?:^|[,{\s])(\w+)(?:::|\s*[,}]|\s*$)").unwrap();
    let mut used: BTreeSet<String> = path.captures_iter(code).map(|c| c[1].to_owned()).collect();
    for g in group.captures_iter(code) {
        used.extend(first.captures_iter(&g[1]).map(|c| c[1].to_owned()));
    }
    used.retain(|m| m != "self" && m != "super");
    used
}

/// The code files of each top-level module (test files left out).
fn module_files(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let rust = path.extension().is_some_and(|e| e == "rs");
            if !rust || name == "tests.rs" || name.ends_with("_tests.rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let top = relative.components().next().unwrap().as_os_str();
            let top = top.to_string_lossy().trim_end_matches(".rs").to_owned();
            if top != "lib" && top != "main" {
                files.entry(top).or_default().push(path);
            }
        }
    }
    files
}

/// Every arrow that does not point down, as `from -> to (file)`.
fn upward_arrows(src: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let order = declared_order(&lib);
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut found = Vec::new();
    for (module, files) in module_files(src) {
        let Some(own) = rank(&module) else {
            found.push(format!("{module} is not declared in lib.rs"));
            continue;
        };
        for file in files {
            let code = std::fs::read_to_string(&file).unwrap();
            for used in used_modules(&code) {
                if used == module {
                    continue;
                }
                if rank(&used).is_none_or(|r| r > own) {
                    found.push(format!("{module} -> {used} ({})", file.display()));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_uses_only_modules_declared_before_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let upward = upward_arrows(&src);
    assert!(
        upward.is_empty(),
        "imports that point up (move the code down, or the module up in lib.rs):\n{}",
        upward.join("\n")
    );
}

#[test]
fn an_import_of_a_later_module_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod text;\npub mod rules;\npub mod store;\n",
    )
    .unwrap();
    std::fs::write(src.join("text.rs"), "pub fn f() {}\n").unwrap();
    std::fs::create_dir(src.join("rules")).unwrap();
    std::fs::write(
        src.join("rules/mod.rs"),
        "use crate::{text, store::Store};\n#[cfg(test)]\nmod tests { use crate::store; }\n",
    )
    .unwrap();
    std::fs::write(src.join("rules/tests.rs"), "use crate::store::Store;\n").unwrap();
    std::fs::write(src.join("store.rs"), "use crate::rules::x;\n").unwrap();
    let upward = upward_arrows(src);
    assert_eq!(upward.len(), 1, "{upward:?}");
    assert!(upward[0].starts_with("rules -> store"), "{upward:?}");
}
