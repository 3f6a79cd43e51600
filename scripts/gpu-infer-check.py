#!/usr/bin/env python3
"""Measure the GPU energy of generating tokens with a randomly initialised Llama-shaped model
(Llama 3 8B by default, or Llama 3.2 1B/3B with --shape) and print it beside `wattlens estimate
infer` for the same shape, batch and token counts.

Run on an H100 on 2026-11-25 (results in docs/validation.md section 4.3). Needs an
NVIDIA GPU (Volta or newer, for the driver's total-energy counter), PyTorch, transformers and
nvidia-ml-py, and a built `target/release/wattlens`. Weights are random: the energy of the
arithmetic does not depend on them. Greedy decoding with `min_new_tokens` forces every sequence
to generate exactly `--output-tokens` tokens.

    python3 scripts/gpu-infer-check.py --gpu-name h100 --batch 1 64 [--shape llama-3.2-1b]
"""

import argparse
import json
import subprocess
import time

import pynvml
import torch
from transformers import LlamaConfig, LlamaForCausalLM

# Llama 3 8B (meta-llama/Meta-Llama-3-8B config.json).
LLAMA3_8B = dict(
    hidden_size=4096,
    intermediate_size=14336,
    num_hidden_layers=32,
    num_attention_heads=32,
    num_key_value_heads=8,
    vocab_size=128256,
    max_position_embeddings=8192,
    rope_theta=500000.0,
)
# Llama 3.2 1B and 3B (meta-llama/Llama-3.2-1B and -3B config.json): tied embeddings.
SHAPES = {
    "llama-3-8b": LLAMA3_8B,
    "llama-3.2-1b": dict(LLAMA3_8B, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, head_dim=64, tie_word_embeddings=True),
    "llama-3.2-3b": dict(LLAMA3_8B, hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
                         num_attention_heads=24, head_dim=128, tie_word_embeddings=True),
}


def energy_mj(handle):
    return pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # millijoules since driver load


def measure(model, batch, input_tokens, output_tokens, handle):
    ids = torch.randint(0, LLAMA3_8B["vocab_size"], (batch, input_tokens), device="cuda")
    kw = dict(max_new_tokens=output_tokens, min_new_tokens=output_tokens, do_sample=False)
    model.generate(ids, **kw)  # warm-up
    torch.cuda.synchronize()
    e0, t0 = energy_mj(handle), time.time()
    model.generate(ids, **kw)
    torch.cuda.synchronize()
    e1, t1 = energy_mj(handle), time.time()
    return (e1 - e0) / 1e3, t1 - t0


def estimate(shape, gpu, batch, input_tokens, output_tokens):
    out = subprocess.run(
        ["target/release/wattlens", "estimate", "infer", "--model", shape, "--gpu", gpu,
         "--batch", str(batch), "--input-tokens", str(input_tokens),
         "--output-tokens", str(output_tokens), "--gpus", "1", "--json"],
        check=True, capture_output=True, text=True).stdout
    v = json.loads(out)
    wh = v["accelerator_energy_wh_per_request"]
    return {k: wh[k] * 3600.0 * batch for k in ("p5", "p50", "p95")}  # J for the whole batch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu-name", default="h100", help="wattlens catalog name of the GPU")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--input-tokens", type=int, default=512)
    ap.add_argument("--output-tokens", type=int, default=256)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="llama-3-8b",
                    help="model shape, also the wattlens catalog model it is compared with")
    a = ap.parse_args()
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    torch.manual_seed(0)
    # Built on the GPU in bf16: initialising 8 B parameters on the CPU in fp32 takes minutes.
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = LlamaForCausalLM(LlamaConfig(**SHAPES[a.shape]))
    torch.set_default_dtype(torch.float32)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    rows = []
    with torch.inference_mode():
        for b in a.batch:
            joules, seconds = measure(model, b, a.input_tokens, a.output_tokens, handle)
            est = estimate(a.shape, a.gpu_name, b, a.input_tokens, a.output_tokens)
            rows.append(dict(shape=a.shape, batch=b, params=params, measured_j=joules, seconds=seconds,
                             measured_j_per_token=joules / (b * a.output_tokens),
                             estimate_j=est,
                             inside=est["p5"] <= joules <= est["p95"],
                             p50_error=est["p50"] / joules - 1.0))
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
