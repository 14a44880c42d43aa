//! The top-level modules form layers: each may import only modules of lower layers, so there
//! is no import circle between them. The table is the one in DEVELOPERS.md; this test reads
//! every source file (tests left out) and fails on an import that goes sideways or up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import modules of the layers before its own.
const LAYERS: &[&[&str]] = &[
    &["domain", "durable"],
    &["config", "layout", "metrics", "state"],
    &["audit", "signature", "vault"],
    &["app"],
    &["batch", "clients", "intake", "pickup"],
    &["ddas", "feedback"],
    &["admin", "retention", "transport"],
    &["daemon", "demo"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests and comments.
fn code_of(text: &str) -> String {
    let text = text.find("#[cfg(test)]\nmod tests").map_or(text, |i| &text[..i]);
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Top-level modules named as `crate::name` or inside `use crate::{…}`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::X, b, c::{…}}`: the first name of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        out.insert(ident(&group[j..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

#[test]
fn top_level_modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first);
        if matches!(module, "lib" | "main") {
            continue;
        }
        let Some(own) = layer_of(module) else {
            wrong.push(format!(
                "{module} ({}) is in no layer: add it to LAYERS and DEVELOPERS.md",
                rel.display()
            ));
            continue;
        };
        for imported in imports(&code_of(&std::fs::read_to_string(file).unwrap())) {
            if imported == module {
                continue;
            }
            match layer_of(&imported) {
                Some(l) if l < own => {}
                _ => {
                    wrong.push(format!("{} imports {imported}, which is not in a lower layer", rel.display()))
                }
            }
            edges.entry(module.to_owned()).or_default().insert(imported);
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n{}", wrong.join("\n"));
    // The table is not vacuous: the modules it names exist and import what they should.
    assert_eq!(edges.len(), LAYERS.iter().map(|l| l.len()).sum::<usize>() - 2, "{edges:?}");
    assert!(edges["cli"].contains("daemon") && edges["intake"].contains("app"), "{edges:?}");
}

#[test]
fn the_import_reader_sees_paths_and_groups() {
    let code = "use crate::app::App;\nuse crate::{audit::{Event, Outcome}, domain, vault::Vault};\nlet x = crate::batch::run(); // crate::cli";
    let got: Vec<String> = imports(&code_of(code)).into_iter().collect();
    assert_eq!(got, ["app", "audit", "batch", "cli", "domain", "vault"]);
    let got: Vec<String> =
        imports(&code_of("// crate::cli\nfn f() {}\n#[cfg(test)]\nmod tests { use crate::cli; }"))
            .into_iter()
            .collect();
    assert!(got.is_empty(), "{got:?}");
}
