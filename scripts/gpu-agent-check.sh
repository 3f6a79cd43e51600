#!/usr/bin/env bash
# `wattlens agent` on a real NVIDIA GPU (docs/validation.md section 3): the node's GPU energy
# counter it serves (`wattlens_node_energy_joules_total{component="gpu"}`) against the driver's
# own total-energy counter (NVML through nvidia-ml-py) over a bf16 burn, and the GPU energy it
# charges per workload. Needs an NVIDIA GPU, python3 with PyTorch and nvidia-ml-py, and
# target/release/wattlens.      bash scripts/gpu-agent-check.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d)}
W=$PWD/target/release/wattlens
PORT=${PORT:-19400}
SECS=${SECS:-20}
[ -x "$W" ] || { echo "build first: cargo build --release" >&2; exit 2; }
"$W" agent --listen "127.0.0.1:$PORT" --interval 500ms >"$OUT/agent.log" 2>&1 &
AGENT=$!
trap 'kill $AGENT 2>/dev/null || true' EXIT
cat >"$OUT/check.py" <<'PY'
import json, re, subprocess, sys, time, urllib.request
import pynvml
port, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
pynvml.nvmlInit(); h = pynvml.nvmlDeviceGetHandleByIndex(0)
def scrape():
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1); break
    except Exception:
        time.sleep(0.2)
time.sleep(3)
def sample(name, text, want):
    tot = {}
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels, value = line[len(name):].rsplit(" ", 1)
        if all(f'{k}="{v}"' in labels for k, v in want.items()):
            tot[labels] = float(value)
    return tot
c0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h); m0 = scrape()
burn = "import time,torch\na=torch.randn(8192,8192,device='cuda',dtype=torch.bfloat16);b=torch.randn_like(a)\nend=time.time()+%f\nwhile time.time()<end:\n  [a@b for _ in range(20)]; torch.cuda.synchronize()\n" % secs
subprocess.run([sys.executable, "-c", burn], check=True)
time.sleep(2)
c1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h); m1 = scrape()
open(f"{out}/metrics-before.txt", "w").write(m0); open(f"{out}/metrics-after.txt", "w").write(m1)
node = lambda m: sum(sample("wattlens_node_energy_joules_total", m, {"component": "gpu"}).values())
drv, agent = (c1 - c0) / 1e3, node(m1) - node(m0)
print(f"driver counter over the burn and 2 s after: {drv:.0f} J")
print(f"agent's node GPU counter, same scrapes: {agent:.0f} J, ratio {agent / drv:.4f} "
      "(the agent's counter moves at its polls, 0.5 s apart: up to one interval at each end)")
w0 = sample("wattlens_workload_energy_joules_total", m0, {"component": "gpu"})
w1 = sample("wattlens_workload_energy_joules_total", m1, {"component": "gpu"})
rows = sorted(((v - w0.get(k, 0.0), k) for k, v in w1.items()), reverse=True)
idle = lambda m: sum(sample("wattlens_idle_energy_joules_total", m, {"component": "gpu"}).values())
print(f"GPU energy charged to workloads: {sum(r[0] for r in rows):.0f} J; to idle: {idle(m1) - idle(m0):.0f} J")
for d, k in rows[:5]:
    print(f"  {d:9.0f} J  {k}")
PY
python3 "$OUT/check.py" "$PORT" "$SECS" "$OUT"
echo "files: $OUT"
