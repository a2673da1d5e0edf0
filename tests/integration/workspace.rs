//! Invariants of the workspace itself, read from `cargo metadata`.

use std::process::Command;

fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn packages(meta: &serde_json::Value) -> Vec<&serde_json::Value> {
    meta["packages"]
        .as_array()
        .expect("packages array")
        .iter()
        .collect()
}

#[test]
fn no_library_crate_depends_on_another_workspace_crate() {
    let meta = metadata();
    let pkgs = packages(&meta);
    let mut offenders = Vec::new();
    for pkg in &pkgs {
        let name = pkg["name"].as_str().expect("name");
        if name == "novacron" {
            continue; // the root package composes the crates in examples, benches and tests
        }
        for dep in pkg["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dep name");
            // Only normal and build dependencies ship with a library; the test
            // helper may be a dev-dependency.
            let kind = dep["kind"].as_str();
            if dep_name.starts_with("novacron") && kind != Some("dev") {
                offenders.push(format!("{name} -> {dep_name}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "library crates must not depend on each other: {offenders:?}"
    );
}

#[test]
fn every_library_crate_is_prefixed_and_inherits_workspace_settings() {
    let meta = metadata();
    for pkg in packages(&meta) {
        let name = pkg["name"].as_str().expect("name");
        let manifest = pkg["manifest_path"].as_str().expect("manifest path");
        if name == "novacron" {
            continue;
        }
        assert!(
            name.starts_with("novacron-"),
            "{name} must be prefixed novacron-"
        );
        assert!(
            manifest.contains("/crates/"),
            "{name} must live under crates/: {manifest}"
        );
        assert_eq!(pkg["edition"], "2024", "{name} must inherit edition 2024");
        assert_eq!(
            pkg["license"], "MIT OR Apache-2.0",
            "{name} must inherit the license"
        );
        let text = std::fs::read_to_string(manifest).expect("read manifest");
        assert!(
            text.contains("[lints]\nworkspace = true"),
            "{name} must inherit [workspace.lints]"
        );
    }
}

#[test]
fn every_dependency_version_comes_from_the_workspace_table() {
    let meta = metadata();
    let mut offenders = Vec::new();
    for pkg in packages(&meta) {
        let manifest = pkg["manifest_path"].as_str().expect("manifest path");
        let text = std::fs::read_to_string(manifest).expect("read manifest");
        let mut in_deps = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_deps = matches!(
                    line,
                    "[dependencies]" | "[dev-dependencies]" | "[build-dependencies]"
                );
                continue;
            }
            if in_deps
                && !line.is_empty()
                && !line.starts_with('#')
                && !line.contains("workspace = true")
            {
                offenders.push(format!("{manifest}: {line}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "declare versions once in [workspace.dependencies] and write `name.workspace = true`: {offenders:#?}"
    );
}

#[test]
fn every_crate_inherits_rust_version_and_repository() {
    let meta = metadata();
    let root = packages(&meta)
        .into_iter()
        .find(|p| p["name"] == "novacron")
        .expect("root package");
    for pkg in packages(&meta) {
        let name = pkg["name"].as_str().expect("name");
        assert_eq!(
            pkg["rust_version"], root["rust_version"],
            "{name}: rust-version.workspace = true"
        );
        assert!(
            pkg["rust_version"].is_string(),
            "{name} declares a rust-version"
        );
        assert_eq!(
            pkg["repository"], root["repository"],
            "{name}: repository.workspace = true"
        );
        assert!(
            pkg["repository"].is_string(),
            "{name} declares a repository"
        );
    }
}
