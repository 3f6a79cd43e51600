#!/usr/bin/env bash
# Overhead of `wattlens run`, recorded in docs/benchmarks.md ("wattlens run overhead").
#
# 1. CPU time (user + system, the command's included) and peak RSS of
#    `wattlens run -- sleep $SECS` at --interval 1s and 100ms, against `sleep $SECS` alone, and
#    CodeCarbon's OfflineEmissionsTracker around the same `sleep $SECS` (measure_power_secs 1 and
#    0.1) against the same Python without CodeCarbon. All cases run interleaved, $RUNS times each,
#    in the same run; medians are reported. CPU time is wait4(2)'s rusage (the command and
#    everything it waited for); peak RSS is GNU time's %M for the measured process (wait4's
#    ru_maxrss would include the RSS of the forking Python before exec).
# 2. Wall time wattlens adds to a short command: hyperfine, `true` against `wattlens run -- true`.
#
# CodeCarbon is pip-installed into a throwaway venv ($CC_VENV, default under /tmp) and runs
# offline (OfflineEmissionsTracker, country FRA).
# Usage: scripts/bench-run.sh            (RUNS=3 SECS=60 by default; about 20 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-60}
VENV=${CC_VENV:-/tmp/wattlens-bench-cc}
cargo build --release --locked -p wattlens-cli
W=$PWD/target/release/wattlens
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import codecarbon" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q codecarbon
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
echo "wattlens: $("$W" --version); codecarbon: $("$VENV/bin/python" -c 'import codecarbon; print(codecarbon.__version__)')"

"$VENV/bin/python" - "$W" "$SECS" "$RUNS" <<'EOF'
import os, statistics, subprocess, sys, tempfile, time

w, secs, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
py = sys.executable
cc = (
    "import subprocess\n"
    "from codecarbon import OfflineEmissionsTracker\n"
    "t = OfflineEmissionsTracker(country_iso_code='FRA', measure_power_secs={i},"
    " save_to_file=False, log_level='error')\n"
    "t.start()\nsubprocess.run(['sleep', '{s}'])\nt.stop()\n"
)
cases = [
    ("sleep alone", ["sleep", secs], None),
    ("wattlens run, 1 s", [w, "run", "--quiet", "--interval", "1s", "--", "sleep", secs], "sleep alone"),
    ("wattlens run, 100 ms", [w, "run", "--quiet", "--interval", "100ms", "--", "sleep", secs], "sleep alone"),
    ("python + sleep", [py, "-c", f"import subprocess; subprocess.run(['sleep', '{secs}'])"], None),
    ("CodeCarbon, 1 s", [py, "-c", cc.format(i=1, s=secs)], "python + sleep"),
    ("CodeCarbon, 100 ms", [py, "-c", cc.format(i=0.1, s=secs)], "python + sleep"),
]
res = {name: [] for name, _, _ in cases}
for r in range(runs):
    for name, cmd, _ in cases:
        rss_file = tempfile.NamedTemporaryFile(delete=False)
        rss_file.close()
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + cmd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        with open(rss_file.name) as f:
            rss_mb = int(f.read().split()[-1]) / 1024
        os.unlink(rss_file.name)
        res[name].append((wall, (ru.ru_utime + ru.ru_stime) * 1000, rss_mb))
        print(f"  run {r + 1}/{runs} {name}: wall {wall:.3f} s, CPU {res[name][-1][1]:.0f} ms, "
              f"peak RSS {res[name][-1][2]:.1f} MB, status {status}", file=sys.stderr)
med = lambda name, i: statistics.median(x[i] for x in res[name])
print(f"\n| case (median of {runs}) | wall s | CPU ms | CPU ms over its baseline | peak RSS MB |")
print("|---|---|---|---|---|")
for name, _, base in cases:
    over = f"{med(name, 1) - med(base, 1):.0f}" if base else "baseline"
    print(f"| {name} | {med(name, 0):.3f} | {med(name, 1):.0f} | {over} | {med(name, 2):.1f} |")
EOF

hyperfine --warmup 5 --runs 50 -N --export-markdown /tmp/wattlens-run-wall.md \
  "true" "$W run --quiet -- true" "$W run -- true"
cat /tmp/wattlens-run-wall.md
