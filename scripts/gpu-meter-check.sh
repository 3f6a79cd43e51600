#!/usr/bin/env bash
# The library meter on a real GPU (docs/validation.md section 3): marked windows, record and
# replay, and per-process charging of an NVIDIA GPU, each against the driver's own total-energy
# counter (NVML nvmlDeviceGetTotalEnergyConsumption, read through nvidia-ml-py).
#
#  1. windows: `wattlens run --marks --record` around a bf16 burn (window "burn") and a sleep
#     (window "idle"); the command itself reads the driver's counter at each mark; the trace's
#     GPU counter between the marks' polls is compared with the driver's, and the replay of the
#     trace must give the same IT energy as the live run.
#  2. per process: a burn started OUTSIDE wattlens while `wattlens run -- sleep` measures; under
#     `--charge processes` (default) the sleeping process never touches the GPU, so the GPU must
#     not be charged to it; under `--charge machine` the whole GPU's energy is.
#
# Needs an NVIDIA GPU (Volta or newer), python3 with PyTorch (CUDA) and nvidia-ml-py, and
# target/release/wattlens.   bash scripts/gpu-meter-check.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d)}
W=$PWD/target/release/wattlens
[ -x "$W" ] || { echo "build first: cargo build --release" >&2; exit 2; }
python3 -c 'import torch, pynvml; assert torch.cuda.is_available()' 2>/dev/null \
  || { echo "python3 with a CUDA build of PyTorch and nvidia-ml-py is needed" >&2; exit 2; }

cat >"$OUT/phases.py" <<'PY'
import json, os, sys, time, torch, pynvml
pynvml.nvmlInit(); h = pynvml.nvmlDeviceGetHandleByIndex(0)
marks, log = os.environ["WATTLENS_MARKS"], []
def mark(text):
    torch.cuda.synchronize()
    log.append((text, time.time(), pynvml.nvmlDeviceGetTotalEnergyConsumption(h)))
    with open(marks, "a") as f:
        f.write(text + "\n")
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16); b = torch.randn_like(a)
for _ in range(20): a @ b
mark("begin burn")
end = time.time() + float(sys.argv[2])
while time.time() < end:
    for _ in range(20): a @ b
    torch.cuda.synchronize()
mark("end burn")
mark("begin idle")
time.sleep(float(sys.argv[3]))
mark("end idle")
json.dump(log, open(sys.argv[1], "w"))
PY
"$W" run --interval 200ms --marks --record "$OUT/t.jsonl" --json "$OUT/live.json" \
  -- python3 "$OUT/phases.py" "$OUT/marks.json" 10 5
"$W" run --replay "$OUT/t.jsonl" --json "$OUT/replay.json" >/dev/null

cat >"$OUT/burn.py" <<'PY'
import sys, time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16); b = torch.randn_like(a)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for _ in range(20): a @ b
    torch.cuda.synchronize()
PY
python3 "$OUT/burn.py" 40 &
BURN=$!
sleep 8   # CUDA start-up and the first products
counter() { python3 -c 'import pynvml as n; n.nvmlInit(); print(n.nvmlDeviceGetTotalEnergyConsumption(n.nvmlDeviceGetHandleByIndex(0)))'; }
c0=$(counter); "$W" run --interval 500ms --json "$OUT/proc.json" -- sleep 8 >/dev/null; c1=$(counter)
c2=$(counter); "$W" run --interval 500ms --charge machine --json "$OUT/mach.json" -- sleep 8 >/dev/null; c3=$(counter)
kill $BURN 2>/dev/null || true; wait $BURN 2>/dev/null || true

python3 - "$OUT" "$c0" "$c1" "$c2" "$c3" <<'PY'
import json, sys
out = sys.argv[1]; c0, c1, c2, c3 = (float(x) / 1e3 for x in sys.argv[2:6])
log = json.load(open(f"{out}/marks.json"))
drv = {name: (log[i + 1][2] - log[i][2]) / 1e3 for i, name in ((0, "burn"), (2, "idle"))}
# The trace: GPU counter readings (J) and mark events at poll times.
gpu, marks, devs = [], {}, {}
for line in open(f"{out}/t.jsonl"):
    r = json.loads(line)
    if "declare" in r: devs[r["declare"]] = r
    elif r.get("event") == "mark": marks[r["text"]] = r["t"]
    elif "d" in r and devs.get(r["d"], {}).get("source") == "nvml":
        gpu.append((r["t"], r.get("energy_uj", 0) / 1e6, r))
def at(t):  # the GPU counter (J) at the first poll at or after t
    return next(x[1] for x in gpu if x[0] >= t - 1e-9)
live, rep = json.load(open(f"{out}/live.json")), json.load(open(f"{out}/replay.json"))
print("first nvml trace record:", gpu[0][2] if gpu else "none")
for name in ("burn", "idle"):
    w = next(x for x in live["windows"] if x["name"] == name)
    print(f"window {name}: {w['duration_s']:.2f} s, wattlens IT {w['it_energy_kwh']['p50']*3.6e6:.0f} J "
          f"[{w['it_energy_kwh']['p5']*3.6e6:.0f}..{w['it_energy_kwh']['p95']*3.6e6:.0f}], "
          f"trace GPU counter between the marks' polls {at(marks['end ' + name]) - at(marks['begin ' + name]):.0f} J, "
          f"driver GPU between the marks {drv[name]:.0f} J")
g = lambda r: next(c for c in r["components"] if c["kind"] == "accelerator")
print(f"live run: GPU {g(live)['energy_kwh']['p50']*3.6e6:.1f} J ({g(live)['method']}), IT {live['it_energy_kwh']['p50']*3.6e6:.3f} J")
print(f"replay:   GPU {g(rep)['energy_kwh']['p50']*3.6e6:.1f} J, IT {rep['it_energy_kwh']['p50']*3.6e6:.3f} J, "
      f"equal IT: {live['it_energy_kwh'] == rep['it_energy_kwh']}")
for label, path, d in (("charge processes", "proc.json", c1 - c0), ("charge machine", "mach.json", c3 - c2)):
    r = json.load(open(f"{out}/{path}"))
    acc = [c for c in r["components"] if c["kind"] == "accelerator"]
    e = sum(c["energy_kwh"]["p50"] for c in acc) * 3.6e6
    print(f"sleep 8 beside a foreign burn, {label}: wattlens GPU {e:.0f} J; driver counter around the run {d:.0f} J; "
          f"attribution {json.dumps(r.get('attribution'))}")
PY
echo "files: $OUT"
