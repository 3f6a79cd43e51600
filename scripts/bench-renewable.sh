#!/usr/bin/env bash
# `plan renewable` against issue 10's target (1,000 jobs over a year of hourly supply in under
# 1 s), recorded in docs/benchmarks.md. Needs hyperfine and python3. Data, written to a temporary
# folder: a year of hourly supply (`timestamp,kw`, the shipped DK1 wind forecast of 2024 scaled
# to a 10 MW peak, empty hours as 0) and 1,000 jobs (1-12 h, 10-500 kW), once with windows of
# 12 h to a week at random releases (seed 1) and once with no release or deadline (the whole
# year each: the worst case for the search, seed 2). Baseline: `wattlens --version`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --locked -p wattlens-cli
W=$PWD/target/release/wattlens
D=$(mktemp -d)
python3 - "$D" <<'PY'
import csv, datetime as dt, random, sys
d = sys.argv[1]
rows = list(csv.DictReader(open("crates/wattlens/data/timeseries/dk_energinet_wind_solar_dayahead_forecast_2024_hourly.csv")))
vals = []
for r in rows:
    try:
        vals.append(float(r["dk1_offshore_wind_mwh"]) + float(r["dk1_onshore_wind_mwh"]))
    except ValueError:
        vals.append(0.0)
peak = max(vals)
with open(f"{d}/year_supply.csv", "w") as f:
    f.write("timestamp,kw\n")
    for r, v in zip(rows, vals):
        f.write(f"{r['hour_start_utc']},{10000 * v / peak:.3f}\n")
t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
z = lambda t: t.isoformat().replace("+00:00", "Z")
random.seed(1)
with open(f"{d}/jobs1000.csv", "w") as f:
    f.write("name,duration,power,earliest,deadline\n")
    for k in range(1000):
        h, w = random.randint(1, 12), random.randint(12, 168)
        s, p = random.randint(0, 8784 - w - 1), random.randint(10, 500)
        e = t0 + dt.timedelta(hours=s)
        f.write(f"job{k},{h}h,{p}kW,{z(e)},{z(e + dt.timedelta(hours=max(w, h)))}\n")
random.seed(2)
with open(f"{d}/jobs1000_open.csv", "w") as f:
    f.write("name,duration,power,earliest,deadline\n")
    for k in range(1000):
        f.write(f"job{k},{random.randint(1, 12)}h,{random.randint(10, 500)}kW,,\n")
PY
cd "$D"
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-json "$D/r.json" \
  "$W --version" \
  "$W plan renewable --supply year_supply.csv --jobs jobs1000.csv --other-load 3MW --pue 1.2 --json" \
  "$W plan renewable --supply year_supply.csv --jobs jobs1000_open.csv --other-load 3MW --pue 1.2 --json" \
  "$W plan renewable --supply dk1-wind-2024 --capacity 10MW --jobs jobs1000.csv --other-load 3MW --pue 1.2 --storage 5MWh --round-trip 0.9 --storage-power 2MW --series dk1-2024 --json" \
  >/dev/null
python3 - "$D/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print("| command | median ms | min ms |")
print("|---|---:|---:|")
for x in r:
    c = x["command"].split("/wattlens ", 1)[-1]
    print(f"| `{c}` | {x['median'] * 1e3:.1f} | {x['min'] * 1e3:.1f} |")
PY
