#!/usr/bin/env bash
# Short, bounded fuzzing of every target on the stable toolchain (no
# cargo-fuzz needed): builds with libFuzzer's coverage instrumentation and
# runs each target for the given number of seconds (default 30) on a copy of
# its committed corpus. A crash fails the script and leaves the input in
# fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-30}
triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions"
# --target keeps RUSTFLAGS away from build scripts (they would fail to link).
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-target/fuzz-stable}
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^novacron-fuzz$')
cargo build --release --target "$triple" --bins ${FUZZ_FEATURES:+--features "$FUZZ_FEATURES"}
for t in $targets; do
  if [ ! -x "$CARGO_TARGET_DIR/$triple/release/$t" ]; then
    # A target behind a cargo feature (ml_loader: --features ml) is not built here.
    echo "not built (needs a cargo feature, see fuzz/README.md): $t"
    continue
  fi
  work=$(mktemp -d)
  cp corpus/"$t"/* "$work"/ 2>/dev/null || true
  mkdir -p artifacts/"$t"
  echo "fuzzing $t for ${secs}s"
  "$CARGO_TARGET_DIR/$triple/release/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
    -artifact_prefix=artifacts/"$t"/ "$work" 2>&1 | tail -n 3
  rm -rf "$work"
done
