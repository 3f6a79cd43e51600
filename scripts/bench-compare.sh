#!/usr/bin/env bash
# Before/after benchmarks of a refactor, measured in the same run (docs/benchmarks.md):
# `scripts/bench-compare.sh BASE_TREE` where BASE_TREE is a checkout of the "before" commit
# (e.g. `git worktree add /tmp/base <commit>`). Builds both release binaries and both divan
# benches, then interleaves:
# 1. `estimate train --samples 10000 --json`, start to exit (hyperfine, `--version` as the
#    start-up baseline of each binary);
# 2. `run` overhead: wall time added to `true`, and the CPU time of `run --interval 1s -- sleep
#    $SECS` (wait4 rusage, the command included), $RUNS runs each, medians;
# 3. the core: divan's `train_estimate` at 10,000 and 100,000 samples, base then new, twice.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: scripts/bench-compare.sh BASE_TREE}
RUNS=${RUNS:-5}
SECS=${SECS:-10}
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
(cd "$BASE" && cargo build --release --locked -q -p wattlens-cli && cargo bench -p wattlens --bench estimate --no-run -q)
cargo build --release --locked -q -p wattlens-cli && cargo bench -p wattlens --bench estimate --no-run -q
B=$BASE/target/release/wattlens
N=$PWD/target/release/wattlens
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "base: $(git -C "$BASE" rev-parse --short HEAD); new: $(git rev-parse --short HEAD)"
J=$(mktemp -d)
hyperfine --warmup 5 --runs 100 -N --export-json "$J/a.json" \
  "$B --version" "$N --version" \
  "$B estimate train --model llama-3.1-405b --samples 10000 --json" \
  "$N estimate train --model llama-3.1-405b --samples 10000 --json" \
  "true" "$B run --quiet -- true" "$N run --quiet -- true" >/dev/null
python3 - "$J/a.json" "$B" "$N" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print("| command | median ms | min ms |")
print("|---|---:|---:|")
for x in r:
    c = x["command"].replace(sys.argv[2], "BASE").replace(sys.argv[3], "NEW")
    print(f"| `{c}` | {x['median']*1e3:.2f} | {x['min']*1e3:.2f} |")
PY
python3 - "$B" "$N" "$SECS" "$RUNS" <<'PY'
import os, statistics, subprocess, sys
b, n, secs, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cases = [("sleep", ["sleep", secs]),
         ("BASE run --interval 1s", [b, "run", "--quiet", "--interval", "1s", "--", "sleep", secs]),
         ("NEW run --interval 1s", [n, "run", "--quiet", "--interval", "1s", "--", "sleep", secs])]
cpu = {k: [] for k, _ in cases}
for _ in range(runs):
    for k, cmd in cases:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        cpu[k].append((ru.ru_utime + ru.ru_stime) * 1e3)
print(f"\n| case, {secs} s, median of {runs} | CPU ms | runs |")
print("|---|---:|---|")
for k, v in cpu.items():
    print(f"| {k} | {statistics.median(v):.1f} | {', '.join(f'{x:.0f}' for x in v)} |")
PY
for i in 1 2; do
  echo "== divan round $i: base"; (cd "$BASE" && cargo bench -q -p wattlens --bench estimate -- train_estimate 2>/dev/null | grep -E 'train_estimate|├|╰|10000|100000' || true)
  echo "== divan round $i: new"; cargo bench -q -p wattlens --bench estimate -- train_estimate 2>/dev/null | grep -E 'train_estimate|├|╰|10000|100000' || true
done
