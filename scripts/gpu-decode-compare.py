#!/usr/bin/env python3
"""Set the measured decode steps of scripts/gpu-decode-check.py beside `wattlens estimate infer`.

For each CUDA-graph phase of a result file: the measured step time and GPU power, and the
modelled decode step time (P5, P50, P95 of `time_per_output_token_ms`) and decode power (the
`accelerator_power` step, central inputs) for the same shape, accelerator, batch and tokens (512
input, 256 output: the mean context of 640 that the check's cache holds). Prints a Markdown table.
Needs no GPU: it runs the wattlens binary given (default target/release/wattlens).

    python3 scripts/gpu-decode-compare.py RESULT.json [--gpu h200] [--wattlens PATH]
"""

import argparse
import json
import statistics
import subprocess


def estimate(wattlens, shape, gpu, batch):
    out = subprocess.run(
        [wattlens, "estimate", "infer", "--model", shape, "--gpu", gpu, "--gpus", "1",
         "--batch", str(batch), "--input-tokens", "512", "--output-tokens", "256", "--json",
         "--no-history"],
        check=True, capture_output=True, text=True).stdout
    v = json.loads(out)
    step = v["time_per_output_token_ms"]
    power = next(s["value"] for s in v["steps"] if s["name"] == "accelerator_power")
    return step, power


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--gpu", help="wattlens catalog accelerator (default: from the GPU's name)")
    ap.add_argument("--wattlens", default="target/release/wattlens")
    a = ap.parse_args()
    r = json.load(open(a.result))
    name = r["gpu"]["name"]
    gpu = a.gpu or ("h200" if "H200" in name else "h100" if "H100" in name else None)
    if gpu is None:
        raise SystemExit(f"give --gpu: no catalog accelerator is known for {name!r}")
    board = r["gpu"]["power_limit_w"]
    print(f"{name}, board power {board:.0f} W, wattlens --gpu {gpu}\n")
    print("| shape | batch | step, measured | step, modelled P50 (P5-P95) | inside | power, measured "
          "| power, modelled | J/token, measured | J/token, modelled |")
    print("|---|---|---|---|---|---|---|---|---|")
    step_err, power_err, energy_err, inside = [], [], [], 0
    rows = [p for p in r["phases"] if p.get("mode") == "graph"]
    for p in rows:
        try:
            step, power = estimate(a.wattlens, p["shape"], gpu, p["batch"])
        except subprocess.CalledProcessError as e:
            why = e.stderr.strip().splitlines()[-1].split("; ")[0]
            print(f"| {p['shape']} | {p['batch']} | {p['step_ms']:.2f} ms | refused: {why} | | "
                  f"{p['watts']:.0f} W | | "
                  f"{p['j_per_token']:.3f} | |")
            continue
        ok = step["p5"] <= p["step_ms"] <= step["p95"]
        inside += ok
        model_j = power * step["p50"] / 1e3 / p["batch"]
        step_err.append(step["p50"] / p["step_ms"] - 1)
        power_err.append(power / p["watts"] - 1)
        energy_err.append(model_j / p["j_per_token"] - 1)
        print(f"| {p['shape']} | {p['batch']} | {p['step_ms']:.2f} ms | {step['p50']:.2f} ms "
              f"({step['p5']:.2f}-{step['p95']:.2f}) | {'yes' if ok else 'no'} | "
              f"{p['watts']:.0f} W ({p['watts'] / board:.2f}) | {power:.0f} W ({power / board:.2f}) | "
              f"{p['j_per_token']:.3f} | {model_j:.3f} |")
    med = statistics.median
    print(f"\nstep: median error {med(step_err):+.0%}, median |error| "
          f"{med(abs(e) for e in step_err):.0%}, {inside} of {len(step_err)} inside P5-P95; power: median "
          f"error {med(power_err):+.0%}; decode J/token (central): median error {med(energy_err):+.0%}, "
          f"median |error| {med(abs(e) for e in energy_err):.0%}")


if __name__ == "__main__":
    main()
