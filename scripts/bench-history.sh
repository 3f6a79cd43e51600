#!/usr/bin/env bash
# The run history's cost, recorded in docs/benchmarks.md ("Run history"):
# 1. `wattlens history list` (default limit, 20 rows) over a ledger of 100,000 runs, against
#    `wattlens --version` (the process alone), in the same hyperfine run; also a tag filter and
#    `--since 30d --json`. The ledger: one real `wattlens run` row, copied to 100,000 rows spread
#    over a year, each with two tags (50 projects, 1,000 experiments), by the sqlite3 shell.
# 2. What recording adds to `wattlens run --quiet -- true`: with `--no-history` against into that
#    100,000-row ledger, $ROUNDS rounds alternating the two (hyperfine -N each), medians.
# Usage: scripts/bench-history.sh   (RUNS=100 ROUNDS=3 by default; needs hyperfine, sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-100}
ROUNDS=${ROUNDS:-3}
for tool in hyperfine sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 2; }
done
cargo build --release --locked -p wattlens-cli
W=$PWD/target/release/wattlens
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
L=$DIR/history.sqlite
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "wattlens: $("$W" --version)"

"$W" --history "$L" run --quiet --tag project=p0 --tag experiment=e0 -- true
sqlite3 "$L" >/dev/null <<'SQL'
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
INSERT INTO runs (started_ms, started_at, kind, report_kind, command, host, method,
  energy_kwh_p5, energy_kwh_p50, energy_kwh_p95, carbon_kg_p5, carbon_kg_p50, carbon_kg_p95,
  water_l_p5, water_l_p50, water_l_p95, exit_code, wattlens_version, report)
SELECT r.started_ms - n.i * 315360,
  strftime('%Y-%m-%dT%H:%M:%fZ', (r.started_ms - n.i * 315360) / 1000.0, 'unixepoch'),
  r.kind, r.report_kind, r.command, r.host, r.method,
  r.energy_kwh_p5, r.energy_kwh_p50, r.energy_kwh_p95, r.carbon_kg_p5, r.carbon_kg_p50,
  r.carbon_kg_p95, r.water_l_p5, r.water_l_p50, r.water_l_p95, r.exit_code,
  r.wattlens_version, r.report
FROM runs r, n WHERE r.id = 1;
INSERT INTO tags SELECT id, 'project', 'p' || (id % 50) FROM runs WHERE id > 1;
INSERT INTO tags SELECT id, 'experiment', 'e' || (id % 1000) FROM runs WHERE id > 1;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "ledger: $(sqlite3 "$L" 'SELECT count(*) FROM runs') runs, $(du -h "$L" | cut -f1)"
# The fill left about a gigabyte of dirty pages: written back now, so that the first fsync of a
# measured run does not pay for them.
sync

hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$DIR/list.md" \
  "$W --version" \
  "$W --history $L history list" \
  "$W --history $L history list --tag project=p7" \
  "$W --history $L history list --since 30d --json" >/dev/null
cat "$DIR/list.md"

for r in $(seq "$ROUNDS"); do
  hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$DIR/run-$r.json" \
    "$W --no-history run --quiet -- true" \
    "$W --history $L run --quiet -- true" >/dev/null
done
python3 - "$DIR" "$ROUNDS" <<'PY'
import json, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for r in range(1, rounds + 1):
    for res in json.load(open(f"{d}/run-{r}.json"))["results"]:
        key = "off" if "--no-history" in res["command"] else "on"
        rows.setdefault(key, []).append(
            (res["median"] * 1e3, res["mean"] * 1e3, (res["user"] + res["system"]) * 1e3))
print("| round | --no-history median / mean ms | recorded median / mean ms | added median ms | CPU ms (user + sys) off / on |")
print("|---|---|---|---|---|")
off, on = rows["off"], rows["on"]
for i, (a, b) in enumerate(zip(off, on), 1):
    print(f"| {i} | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} | {b[0] - a[0]:.2f} | {a[2]:.2f} / {b[2]:.2f} |")
m = statistics.median([b[0] - a[0] for a, b in zip(off, on)])
c = statistics.median([b[2] - a[2] for a, b in zip(off, on)])
print(f"median added: {m:.2f} ms wall, {c:.2f} ms CPU")
PY
echo "ledger after: $(sqlite3 "$L" 'SELECT count(*) FROM runs') runs"
