//! `NOVACRON_SIMD` and the process-wide kernels. The environment and the
//! `OnceLock` behind the free functions are per process, so each case runs
//! this test binary again as a child with its own environment; the child
//! prints what it saw and the parent checks it against `Level::available`.

use novacron_simd_kernels::{Error, Kernels, Level};
use std::process::Command;

/// Set in the child: which case to run.
const CASE: &str = "NOVACRON_SIMD_TEST_CASE";

/// Runs the current case when this process is a child; returns whether it was.
fn child() -> bool {
    let Ok(case) = std::env::var(CASE) else {
        return false;
    };
    match case.as_str() {
        "from_env" => println!("from_env={:?}", Kernels::from_env().map(|k| k.level())),
        "install_then_free" => {
            let wanted = Kernels::from_env().expect("the parent passes a supported level");
            println!("install={:?}", wanted.install());
            println!("again={:?}", wanted.install());
            println!("global={:?}", Kernels::global().level());
            // A free function runs the installed kernels: its sum equals the
            // method's at that level, bit for bit.
            let x: Vec<f32> = (0..10_000).map(|i| (i as f32 * 0.37).sin()).collect();
            println!(
                "same_sum={}",
                novacron_simd_kernels::sum(&x) == wanted.sum(&x)
            );
            println!("other={:?}", Kernels::best().install().err());
        }
        "free_then_install" => {
            let _ = novacron_simd_kernels::sum(&[1.0f32, 2.0]);
            println!("global={:?}", Kernels::global().level());
            let portable = Kernels::new(Level::Portable).expect("portable always runs");
            println!("install={:?}", portable.install().err());
        }
        other => panic!("unknown case {other}"),
    }
    true
}

fn run(case: &str, simd: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args(["--exact", "env_cases", "--nocapture", "--test-threads=1"])
        .env(CASE, case);
    match simd {
        Some(v) => cmd.env("NOVACRON_SIMD", v),
        None => cmd.env_remove("NOVACRON_SIMD"),
    };
    let out = cmd.output().expect("run the child");
    assert!(out.status.success(), "child failed: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn env_cases() {
    if child() {
        return;
    }
    let best = Level::best();
    // Unset and blank mean "the best level"; a name is parsed, a bad one refused.
    assert!(run("from_env", None).contains(&format!("from_env=Ok({best:?})")));
    assert!(run("from_env", Some("  ")).contains(&format!("from_env=Ok({best:?})")));
    assert!(run("from_env", Some("portable")).contains("from_env=Ok(Portable)"));
    let bogus = run("from_env", Some("avx9000"));
    assert!(
        bogus.contains(r#"from_env=Err(UnknownLevel { name: "avx9000" })"#),
        "{bogus}"
    );
    // A level the CPU or build lacks is an error, not the best level instead.
    for level in [Level::Avx2, Level::Avx512, Level::Neon] {
        let out = run("from_env", Some(level.name()));
        if Level::available().contains(&level) {
            assert!(out.contains(&format!("from_env=Ok({level:?})")), "{out}");
        } else {
            let want = format!("from_env=Err(UnsupportedLevel {{ level: {level:?} }})");
            assert!(out.contains(&want), "{out}");
        }
    }

    // Installing the portable level makes the free functions run it.
    let out = run("install_then_free", Some("portable"));
    for line in [
        "install=Ok(())",
        "again=Ok(())",
        "global=Portable",
        "same_sum=true",
    ] {
        assert!(out.contains(line), "{line} missing in {out}");
    }
    if best != Level::Portable {
        let want =
            format!("other=Some(AlreadyInstalled {{ installed: Portable, requested: {best:?} }})");
        assert!(out.contains(&want), "{out}");
    }

    // The first free-function call fixes the level; a later install is refused.
    let out = run("free_then_install", None);
    assert!(out.contains(&format!("global={best:?}")), "{out}");
    if best != Level::Portable {
        assert!(
            out.contains(&format!(
                "install=Some(AlreadyInstalled {{ installed: {best:?}, requested: Portable }})"
            )),
            "{out}"
        );
    }
    let msg = Error::AlreadyInstalled {
        installed: best,
        requested: Level::Portable,
    }
    .to_string();
    assert!(msg.contains("before the first free-function call"), "{msg}");
}
