#!/usr/bin/env bash
# Benchmarks recorded in docs/benchmarks.md. Needs hyperfine (Debian package `hyperfine`).
# 1. Process start to exit of `wattlens estimate train` with 10,000 samples, against the
#    binary's own start-up (`wattlens --version`) measured in the same run; medians printed;
#    and `estimate infer` alone against the same with 20 `--vary` variants (issue 12).
# 2. The estimate core (resolve + Monte Carlo + percentiles) at 10,000 and 100,000 samples,
#    with one and two threads (divan, crates/wattlens/benches/estimate.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --locked
W=target/release/wattlens
J=$(mktemp -d)/startup.json
hyperfine --warmup 5 --runs 100 -N --export-json "$J" \
  "$W --version" \
  "$W estimate train --model llama-3.1-405b --samples 10000 --json" \
  "$W estimate train --model llama-3.1-405b --samples 10000" \
  "$W estimate fleet --servers 3617 --server hgx-a100 --grid US --json" \
  "$W estimate infer --model llama-3.1-8b --gpu h100 --samples 10000 --json" \
  "$W estimate infer --model llama-3.1-8b --gpu h100 --samples 10000 --vary precision=fp16,fp8,int8,int4 --vary batch=1,4,16,64 --vary pue=1.1,1.2,1.3,1.4 --vary output-tokens=100,200,500,1000 --vary grid=FR,US,DE,PL --json" >/dev/null
python3 - "$J" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
print("| command | median ms | min ms | ratio to --version |")
print("|---|---:|---:|---:|")
for x in r:
    print(f"| `{x['command'].replace('target/release/', '')}` | {x['median']*1e3:.1f} | {x['min']*1e3:.1f} | {x['median']/base:.2f} |")
PY
cargo bench -p wattlens --locked --bench estimate
