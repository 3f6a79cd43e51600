#!/usr/bin/env bash
# A GPU shared with a process outside the measured tree (docs/validation.md section 3): a bf16
# matrix-product burn started OUTSIDE wattlens, then `wattlens run` around a second, identical
# burn on the same GPU, then the second burn alone. Under `--charge processes` the run is charged
# its share of the processes' SM utilisation (NVML per-process sampling, recorded as `share` in
# the trace); the driver's total-energy counter around each run is printed beside it.
#
# Needs an NVIDIA GPU (Volta or newer), python3 with PyTorch (CUDA) and nvidia-ml-py, and a
# wattlens binary (W=path, default target/release/wattlens).   bash scripts/gpu-share-check.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d)}
W=${W:-$PWD/target/release/wattlens}
[ -x "$W" ] || { echo "build first: cargo build --release" >&2; exit 2; }
cat >"$OUT/burn.py" <<'PY'
import sys, time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16); b = torch.randn_like(a)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for _ in range(10): a @ b
    torch.cuda.synchronize()
PY
counter() { python3 -c 'import pynvml as n; n.nvmlInit(); print(n.nvmlDeviceGetTotalEnergyConsumption(n.nvmlDeviceGetHandleByIndex(0)))'; }
python3 "$OUT/burn.py" 35 &
OTHER=$!
sleep 8
c0=$(counter); "$W" run --interval 500ms --record "$OUT/shared.jsonl" --json "$OUT/shared.json" -- python3 "$OUT/burn.py" 15 2>"$OUT/shared.txt"; c1=$(counter)
"$W" run --replay "$OUT/shared.jsonl" --charge machine --json "$OUT/shared-machine.json" 2>/dev/null
wait $OTHER
c2=$(counter); "$W" run --interval 500ms --record "$OUT/alone.jsonl" --json "$OUT/alone.json" -- python3 "$OUT/burn.py" 15 2>"$OUT/alone.txt"; c3=$(counter)
python3 - "$OUT" "$c0" "$c1" "$c2" "$c3" <<'PY'
import json, sys
out = sys.argv[1]; c0, c1, c2, c3 = (float(x) / 1e3 for x in sys.argv[2:6])
def gpu_j(name):
    r = json.load(open(f"{out}/{name}.json"))
    return sum(c["energy_kwh"]["p50"] for c in r["components"] if c["kind"] == "accelerator") * 3.6e6, r
def shares(name):
    s = [json.loads(l).get("share") for l in open(f"{out}/{name}.jsonl") if '"part":"gpu"' in l]
    got = [x for x in s if x is not None]
    return len(s), len(got), (sum(got) / len(got) if got else None), (min(got) if got else None), (max(got) if got else None)
for name, d in (("shared", c1 - c0), ("alone", c3 - c2)):
    j, r = gpu_j(name)
    print(f"{name}: wattlens GPU {j:.0f} J, driver counter around the run {d:.0f} J, ratio {j / d:.3f}; "
          f"gpu readings, with a share, mean/min/max share: {shares(name)}")
    for n in r.get("notes", []):
        if "shared" in n: print("  note:", n)
j, _ = gpu_j("shared-machine")
print(f"shared, replayed with --charge machine: GPU {j:.0f} J")
PY
echo "files: $OUT"
