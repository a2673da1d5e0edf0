#!/usr/bin/env python3
"""Adaptive pool vs its peers, alternated in one invocation.

Runs examples/pool_load (release build) for each pool in turn, ROUNDS
times, on the same query and task count, each run against its own
throwaway PostgreSQL, and prints per pool the median ops/s, its min-max,
the median ratio to raw deadpool at static 25 (the report's size), p99
acquire wait and starved tasks; then the size sweep of static deadpool
(2, 5, 25, 100, 200), and the step load (10 -> 1000 -> 10 callers).

    cargo build --profile bench --example pool_load
    python3 benches/scripts/pool_compare.py --rounds 3 --seconds 6
"""
import argparse
import json
import statistics
import subprocess
import sys

BIN = "target/release/examples/pool_load"


def run(args, extra):
    cmd = [BIN, "--json", "--tasks", str(args.tasks), "--seconds", str(args.seconds)] + extra
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return lines[-1], lines[:-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--queries", default="select1,sleep-ms:2")
    args = ap.parse_args()
    pools = [
        ("deadpool-25", ["--pool", "deadpool", "--size", "25"]),
        ("adaptive-2..200", ["--pool", "adaptive", "--min", "2", "--max", "200"]),
        ("bb8-25", ["--pool", "bb8", "--size", "25"]),
        ("sqlx-25", ["--pool", "sqlx", "--size", "25"]),
    ] + [(f"deadpool-{n}", ["--pool", "deadpool", "--size", str(n)]) for n in (2, 5, 100, 200)]
    for query in args.queries.split(","):
        results = {name: [] for name, _ in pools}
        for _ in range(args.rounds):
            for name, extra in pools:
                summary, seconds = run(args, extra + ["--query", query])
                results[name].append((summary, seconds))
        base = [r[0]["ops_per_s"] for r in results["deadpool-25"]]
        best_static = max(statistics.median([r[0]["ops_per_s"] for r in results[n]])
                          for n in results if n.startswith("deadpool"))
        print(f"\n## {query}, {args.tasks} tasks, {args.seconds} s, {args.rounds} rounds alternated")
        print(f"{'pool':<16} {'ops/s med':>10} {'min-max':>17} {'x deadpool-25':>14} {'wait p99 ms':>12} {'starved':>8}")
        for name, runs in results.items():
            ops = [r[0]["ops_per_s"] for r in runs]
            ratios = [o / b for o, b in zip(ops, base)]
            p99 = statistics.median([r[0]["wait_p99_ms"] for r in runs])
            starved = max(r[0]["starved_tasks"] for r in runs)
            print(f"{name:<16} {statistics.median(ops):>10.0f} {min(ops):>8.0f}-{max(ops):<8.0f} "
                  f"{statistics.median(ratios):>8.3f} ({min(ratios):.2f}-{max(ratios):.2f}) {p99:>8.2f} {starved:>8}")
        # Time for the adaptive pool to reach 95 % of the best static size.
        reach = []
        for summary, seconds in results["adaptive-2..200"]:
            t = next((s["t"] for s in seconds if s["ops"] >= 0.95 * best_static), None)
            reach.append(t)
        print(f"adaptive reaches 0.95 x best static ({best_static:.0f} ops/s) at second: {reach}")
    print("\n## step load 10:1000:10 (sleep-ms:2)")
    step = {}
    for _ in range(args.rounds):
        for name, extra in [("deadpool-25", ["--pool", "deadpool", "--size", "25"]),
                            ("adaptive-2..200", ["--pool", "adaptive", "--min", "2", "--max", "200"])]:
            summary, _ = run(args, extra + ["--query", "sleep-ms:2", "--step", "10:1000:10"])
            step.setdefault(name, []).append(summary)
    for name, runs in step.items():
        print(f"{name:<16} ops/s {statistics.median([r['ops_per_s'] for r in runs]):.0f} "
              f"wait p99 {statistics.median([r['wait_p99_ms'] for r in runs]):.2f} ms "
              f"starved {max(r['starved_tasks'] for r in runs)}")
    a = [r["wait_p99_ms"] for r in step["adaptive-2..200"]]
    d = [r["wait_p99_ms"] for r in step["deadpool-25"]]
    print(f"p99 wait ratio adaptive/deadpool-25: {statistics.median([x / y for x, y in zip(a, d)]):.3f}")


if __name__ == "__main__":
    sys.exit(main())
