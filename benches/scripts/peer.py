"""Shared by the peer scripts: runs our side (examples/peer_timer.rs) and the
peer alternately, ABAB..., on the same data in one invocation, and reports
the median of the per-round ratios with their spread.

Each round times each side inside its own process (ours in the Rust
process, the peer in Python): the median of five batches of REPS calls, each
batch timed whole, after a warm-up call.
The ratio of a round is peer time / our time (> 1: ours is faster).
"""
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMER = ROOT / "target" / "release" / "examples" / "peer_timer"


class Ours:
    """The peer_timer process, built with the bench profile (no overflow checks, as users build)."""

    def __init__(self):
        if not TIMER.exists() or os.environ.get("NOVACRON_REBUILD", "1") == "1":
            subprocess.run(
                ["cargo", "build", "--profile", "bench", "--example", "peer_timer"],
                cwd=ROOT,
                check=True,
            )
        self.proc = subprocess.Popen(
            [str(TIMER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.tmp = tempfile.TemporaryDirectory()

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        status, _, value = answer.partition(" ")
        if status != "ok":
            raise RuntimeError(f"peer_timer: {command}: {answer}")
        return value

    def load(self, name, array):
        """Hands a numpy array to the Rust side through a file (exact bits)."""
        path = Path(self.tmp.name) / f"{name}.bin"
        array.tofile(path)
        kind = {"float64": "f64", "float32": "f32"}[str(array.dtype)]
        n = int(self.ask(f"load {name} {kind} {path}"))
        assert n == array.size, (n, array.size)

    def time(self, command):
        return float(self.ask(command))

    def close(self):
        self.ask_quit()
        self.tmp.cleanup()

    def ask_quit(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


def median_call(fn, reps):
    """Seconds per call of fn: the median of five batches of `reps` calls,
    each batch timed whole (as peer_timer does), after one warm-up call."""
    import time

    fn()
    reps = max(1, reps)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t) / reps)
    times.sort()
    return times[2]


def interleave(rounds, ours, peer):
    """ABAB...: `rounds` times ours() then peer(); returns the summary."""
    pairs = []
    for _ in range(rounds):
        a = ours()
        b = peer()
        pairs.append((a, b))
    ratios = sorted(b / a for a, b in pairs)
    return {
        "ours_s": statistics.median(a for a, _ in pairs),
        "peer_s": statistics.median(b for _, b in pairs),
        "ratio": statistics.median(ratios),
        "ratio_min": ratios[0],
        "ratio_max": ratios[-1],
        "rounds": rounds,
    }


HEADER = "benchmark,peer,size,rounds,ours_median_s,peer_median_s,ratio_median,ratio_min,ratio_max"


def row(benchmark, peer, size, s):
    print(
        f"{benchmark},{peer},{size},{s['rounds']},{s['ours_s']:.3e},{s['peer_s']:.3e},"
        f"{s['ratio']:.3f},{s['ratio_min']:.3f},{s['ratio_max']:.3f}",
        flush=True,
    )
