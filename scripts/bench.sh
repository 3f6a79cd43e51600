#!/usr/bin/env bash
# Benchmarks recorded in docs/benchmarks.md. Needs hyperfine (Debian package `hyperfine`).
# 1. Process start to exit of `wattlens estimate train` with 10,000 samples, against the
#    binary's own start-up (`wattlens --version`) measured in the same run.
# 2. The estimate core (resolve + Monte Carlo + percentiles) at 10,000 and 100,000 samples,
#    with one and two threads (divan, crates/wattlens/benches/estimate.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
W=target/release/wattlens
hyperfine --warmup 5 --runs 60 -N --export-markdown /tmp/wattlens-startup.md \
  "$W --version" \
  "$W estimate train --model llama-3.1-405b --samples 10000 --json" \
  "$W estimate train --model llama-3.1-405b --samples 10000" \
  "$W estimate fleet --servers 3617 --server hgx-a100 --grid US --json"
cat /tmp/wattlens-startup.md
cargo bench -p wattlens --locked
