#!/usr/bin/env python3
"""What writing `run --json FILE` through a temporary file (flushed, renamed) and checking that the
ledger is wattlens' own cost `wattlens run -- true`: BASE and NEW binaries, interleaved (each round
runs every command once, so load from other processes hits all alike); medians in ms.

Usage: scripts/bench-output-files.py BASE_BINARY NEW_BINARY [ROUNDS]   (run from the repository root)
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

base, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 80
fx = os.path.abspath("crates/wattlens/tests/fixtures")
run = ["run", "-q", "--sysfs-root", f"{fx}/sysfs-none", "--procfs-root", f"{fx}/procfs-4cpu",
       "--charge", "machine"]
with tempfile.TemporaryDirectory() as d:
    cmds = {}
    for name, exe in (("base", base), ("new", new)):
        cmds[f"{name} no outputs"] = [exe, *run, "--no-history", "--", "true"]
        cmds[f"{name} --json FILE"] = [exe, *run, "--no-history", "--json", f"{d}/{name}.json",
                                       "--", "true"]
        cmds[f"{name} ledger"] = [exe, *run, "--history", f"{d}/{name}.db", "--", "true"]
    times = {k: [] for k in cmds}
    for i in range(rounds + 3):
        for k, c in cmds.items():
            s = time.perf_counter()
            subprocess.run(c, check=True)
            if i >= 3:  # three warm-up rounds
                times[k].append((time.perf_counter() - s) * 1e3)
    for k in sorted(cmds, key=lambda k: (k.split(" ", 1)[1], k)):
        q = statistics.quantiles(times[k], n=4)
        print(f"{k:18s} median {statistics.median(times[k]):6.2f} ms  "
              f"(p25 {q[0]:.2f}, p75 {q[2]:.2f}, n={len(times[k])})")
