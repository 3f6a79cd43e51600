#!/usr/bin/env bash
# The NVML check of `wattlens run` (docs/validation.md section 3): a bf16 matrix-product burn on
# GPU 0 under `wattlens run --json`, against the driver's own total-energy counter read with
# nvidia-smi before and after. Prints both and their ratio; writes the JSON beside it.
#
# Run on an H100 on 2026-11-25 (docs/validation.md section 3). Needs an NVIDIA GPU (Volta or newer),
# nvidia-smi, python3 with PyTorch (CUDA build) and nvidia-ml-py, and target/release/wattlens (cargo build --release).
#
#   SECS=60 bash scripts/gpu-nvml-check.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-60}
OUT=${1:-$(mktemp -d)}
W=target/release/wattlens
[ -x "$W" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v nvidia-smi >/dev/null || { echo "nvidia-smi not found: no NVIDIA driver" >&2; exit 2; }
python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null \
  || { echo "python3 with a CUDA build of PyTorch is needed for the burn" >&2; exit 2; }

# nvidia-smi has no total-energy field (driver 580: "not a valid field to query"); NVML's own
# nvmlDeviceGetTotalEnergyConsumption, through nvidia-ml-py, is the driver's counter in mJ.
counter_mj() {
  python3 -c 'import pynvml as n; n.nvmlInit(); print(n.nvmlDeviceGetTotalEnergyConsumption(n.nvmlDeviceGetHandleByIndex(0)))'
}
nvidia-smi -i 0 --query-gpu=name,uuid,driver_version,power.limit --format=csv,noheader | tee "$OUT/gpu.txt"

cat >"$OUT/burn.py" <<PY
import time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
end = time.time() + $SECS
n = 0
while time.time() < end:
    for _ in range(20):
        c = a @ b
    torch.cuda.synchronize()
    n += 20
print(f"{n} matmuls of 8192^3 in bf16: {2 * 8192**3 * n / $SECS / 1e12:.0f} TFLOP/s")
PY

before=$(counter_mj)
t0=$(date +%s.%N)
CUDA_VISIBLE_DEVICES=0 "$W" run --interval 1s --json "$OUT/run.json" -- python3 "$OUT/burn.py"
t1=$(date +%s.%N)
after=$(counter_mj)

python3 - "$OUT/run.json" "$before" "$after" "$t0" "$t1" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
before, after, t0, t1 = (float(x) for x in sys.argv[2:6])
driver_j = (after - before) / 1e3
gpu = next(c for c in run["components"] if c["kind"] == "accelerator")
w_j = gpu["energy_kwh"]["p50"] * 3.6e6
print(f"driver counter (NVML total energy, around the whole wattlens run, {t1 - t0:.1f} s): {driver_j:.0f} J")
print(f"wattlens GPUs ({gpu['method']}, {run['duration_s']:.1f} s): {w_j:.0f} J "
      f"[{gpu['energy_kwh']['p5'] * 3.6e6:.0f} .. {gpu['energy_kwh']['p95'] * 3.6e6:.0f}]")
print(f"ratio wattlens / driver: {w_j / driver_j:.4f} "
      "(below 1 by the GPU's energy outside wattlens' first and last poll)")
PY
echo "files: $OUT"
