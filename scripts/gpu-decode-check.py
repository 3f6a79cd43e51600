#!/usr/bin/env python3
"""Time LLM decode steps replayed as CUDA graphs and read the GPU's energy over each batch size.

A serving stack (vLLM >= 0.6, TensorRT-LLM, SGLang) runs each decode step as one captured CUDA
graph: no Python and no kernel launch per operation, unlike Hugging Face's eager `generate`
(scripts/gpu-infer-check.py, docs/validation.md 4.3), which measures the host as much as the GPU.
This script writes the step of a decoder-only transformer directly in PyTorch (RMSNorm, one fused
QKV projection, grouped-query attention over a KV cache with scaled_dot_product_attention, the
output projection, a SwiGLU MLP, the LM head and a greedy argmax fed back as the next token),
captures it once per batch size and replays it for `--secs` seconds, reading the driver's
total-energy counter (NVML) before and after. Weights and the cache are random bf16: the work
and the bytes moved do not depend on their values. RoPE and Qwen3's q/k norms are left out
(elementwise, under 1% of a step's bytes). The cache holds `--context` tokens (640: the mean
context of 512 input + 256 output tokens), so every step reads what an average step of such a
request reads.

Under `wattlens run --marks` each phase is also a wattlens window: "begin NAME" / "end NAME"
lines are appended to $WATTLENS_MARKS around the counter reads.

Needs an NVIDIA GPU (Volta or newer for the energy counter), PyTorch with CUDA and nvidia-ml-py.
`--cpu` runs the same code on the CPU without graphs or energy (a check of the script itself).

    python3 scripts/gpu-decode-check.py --out decode.json [--shapes llama-3-8b qwen3-32b]
        [--batch 1 2 4 8 16 32 64 128] [--secs 4]

Run on 2026-11-26 (docs/validation.md 4.4). scripts/gpu-decode-compare.py sets the result beside
`wattlens estimate infer`.
"""

import argparse
import json
import os
import threading
import time

import torch
import torch.nn.functional as F

# Shapes from each model's config.json on Hugging Face (the same as the wattlens catalog rows).
SHAPES = {
    # meta-llama/Llama-3.2-1B: tied embeddings (the LM head reads the embedding matrix).
    "llama-3.2-1b": dict(hidden=2048, layers=16, heads=32, kv_heads=8, head_dim=64, ffn=8192,
                         vocab=128256, tied=True),
    # meta-llama/Meta-Llama-3-8B.
    "llama-3-8b": dict(hidden=4096, layers=32, heads=32, kv_heads=8, head_dim=128, ffn=14336,
                       vocab=128256, tied=False),
    # Qwen/Qwen3-32B.
    "qwen3-32b": dict(hidden=5120, layers=64, heads=64, kv_heads=8, head_dim=128, ffn=25600,
                      vocab=151936, tied=False),
    # For --cpu checks of the script.
    "tiny": dict(hidden=128, layers=2, heads=4, kv_heads=2, head_dim=32, ffn=256, vocab=1000,
                 tied=False),
}


class Model:
    """Random bf16 weights of a decoder-only transformer of one shape."""

    def __init__(self, s, dev, dtype):
        self.s = s
        qd, kvd = s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
        gen = torch.Generator(device=dev).manual_seed(0)

        def w(*shape, scale=0.02):
            return torch.empty(*shape, device=dev, dtype=dtype).normal_(0.0, scale, generator=gen)

        def ones(n):
            return torch.ones(n, device=dev, dtype=dtype)

        h = s["hidden"]
        self.emb = w(s["vocab"], h)
        self.layers = [
            dict(n1=ones(h), wqkv=w(h, qd + 2 * kvd), wo=w(qd, h), n2=ones(h),
                 wgu=w(h, 2 * s["ffn"]), wd=w(s["ffn"], h))
            for _ in range(s["layers"])
        ]
        self.nf = ones(h)
        self.head = self.emb.t() if s["tied"] else w(h, s["vocab"])
        self.params = self.emb.numel() + (0 if s["tied"] else self.head.numel()) + sum(
            t.numel() for ly in self.layers for t in ly.values())
        self.dtype = dtype
        self.dev = dev

    def cache(self, batch, context):
        s = self.s
        shape = (s["layers"], 2, batch, s["kv_heads"], context, s["head_dim"])
        return torch.empty(shape, device=self.dev, dtype=self.dtype).normal_(0.0, 1.0)

    def step(self, tok, cache, pos):
        """One decode step for `tok` ([B] token ids); the new K and V go to slot `pos`."""
        s = self.s
        b = tok.shape[0]
        qd, kvd = s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
        grp = s["heads"] // s["kv_heads"]
        x = self.emb[tok]
        for i, ly in enumerate(self.layers):
            qkv = rms(x, ly["n1"]) @ ly["wqkv"]
            # The query heads that share a KV head become that head's query rows: grouped-query
            # attention without copying the cache.
            q = qkv[:, :qd].reshape(b, s["kv_heads"], grp, s["head_dim"])
            k = qkv[:, qd:qd + kvd].reshape(b, s["kv_heads"], 1, s["head_dim"])
            v = qkv[:, qd + kvd:].reshape(b, s["kv_heads"], 1, s["head_dim"])
            kc, vc = cache[i, 0], cache[i, 1]
            kc[:, :, pos:pos + 1].copy_(k)
            vc[:, :, pos:pos + 1].copy_(v)
            a = F.scaled_dot_product_attention(q, kc, vc)
            x = x + a.reshape(b, qd) @ ly["wo"]
            g, u = (rms(x, ly["n2"]) @ ly["wgu"]).split(s["ffn"], dim=-1)
            x = x + (F.silu(g) * u) @ ly["wd"]
        return (rms(x, self.nf) @ self.head).argmax(-1)


def rms(x, w):
    return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * w


class Gpu:
    """The driver's energy counter and a 50 ms sampler of its power reading and SM clock."""

    def __init__(self):
        import pynvml

        self.n = pynvml
        pynvml.nvmlInit()
        self.h = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.samples = []
        self.stop = False
        threading.Thread(target=self._sample, daemon=True).start()

    def info(self):
        n, h = self.n, self.h
        name = n.nvmlDeviceGetName(h)
        return dict(name=name if isinstance(name, str) else name.decode(),
                    driver=n.nvmlSystemGetDriverVersion(),
                    power_limit_w=n.nvmlDeviceGetEnforcedPowerLimit(h) / 1e3,
                    max_sm_clock_mhz=n.nvmlDeviceGetMaxClockInfo(h, n.NVML_CLOCK_SM))

    def energy_j(self):
        return self.n.nvmlDeviceGetTotalEnergyConsumption(self.h) / 1e3

    def _sample(self):
        while not self.stop:
            try:
                self.samples.append((time.perf_counter(),
                                     self.n.nvmlDeviceGetPowerUsage(self.h) / 1e3,
                                     self.n.nvmlDeviceGetClockInfo(self.h, self.n.NVML_CLOCK_SM)))
            except self.n.NVMLError:
                pass
            time.sleep(0.05)

    def between(self, t0, t1):
        got = [(p, c) for t, p, c in self.samples if t0 <= t <= t1]
        if not got:
            return None, None
        return sum(p for p, _ in got) / len(got), sum(c for _, c in got) / len(got)


class NoGpu:
    def info(self):
        return dict(name="cpu")

    def energy_j(self):
        return 0.0

    def between(self, t0, t1):
        return None, None


def mark(word, name):
    path = os.environ.get("WATTLENS_MARKS")
    if path:
        with open(path, "a") as f:
            f.write(f"{word} {name}\n")


def phase(name, fn, secs, sync, gpu):
    """Run `fn` (one decode step) for `secs` seconds; energy from the counter around it."""
    fn()
    sync()
    mark("begin", name)
    e0, t0, n = gpu.energy_j(), time.perf_counter(), 0
    while True:
        for _ in range(10):
            fn()
        n += 10
        sync()
        if time.perf_counter() - t0 >= secs:
            break
    t1 = time.perf_counter()
    e1 = gpu.energy_j()
    mark("end", name)
    joules, seconds = e1 - e0, t1 - t0
    sampled_w, sm_mhz = gpu.between(t0, t1)
    return dict(phase=name, steps=n, seconds=seconds, step_ms=seconds / n * 1e3, joules=joules,
                watts=joules / seconds, sampled_watts=sampled_w, sm_clock_mhz=sm_mhz)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="JSON file for the results")
    ap.add_argument("--shapes", nargs="+", default=["llama-3.2-1b", "llama-3-8b", "qwen3-32b"],
                    choices=sorted(SHAPES))
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64, 128])
    ap.add_argument("--eager-batch", type=int, nargs="*", default=[1, 8],
                    help="batch sizes also run step by step without a graph (first shape only)")
    ap.add_argument("--context", type=int, default=640)
    ap.add_argument("--secs", type=float, default=4.0)
    ap.add_argument("--cpu", action="store_true", help="check the script on the CPU")
    a = ap.parse_args()

    dev = "cpu" if a.cpu else "cuda"
    gpu = NoGpu() if a.cpu else Gpu()
    sync = (lambda: None) if a.cpu else torch.cuda.synchronize
    result = dict(gpu=gpu.info(), context=a.context, secs=a.secs, torch=torch.__version__,
                  phases=[])

    def save():
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)

    with torch.inference_mode():
        if not a.cpu:
            torch.ones(1, device=dev)  # the CUDA context, so idle is the context's idle
            time.sleep(1.0)
        idle = phase("idle", lambda: time.sleep(0.01), 3.0 if not a.cpu else 0.1, sync, gpu)
        result["phases"].append(dict(idle, shape=None, batch=0, mode="idle"))
        for si, shape in enumerate(a.shapes):
            m = Model(SHAPES[shape], dev, torch.bfloat16)
            for b in a.batch:
                cache_bytes = 2 * m.s["layers"] * b * m.s["kv_heads"] * a.context * m.s["head_dim"] * 2
                if not a.cpu and cache_bytes * 1.2 + 2**30 > torch.cuda.mem_get_info()[0]:
                    print(f"{shape} batch {b}: the cache ({cache_bytes / 1e9:.1f} GB) does not fit; skipped",
                          flush=True)
                    continue
                cache = m.cache(b, a.context)
                tok = torch.randint(0, m.s["vocab"], (b,), device=dev)

                def once():
                    tok.copy_(m.step(tok, cache, a.context - 1))

                graph = None
                modes = ["graph"] if not a.cpu else ["eager"]
                if si == 0 and b in a.eager_batch and not a.cpu:
                    modes.append("eager")
                for mode in modes:
                    fn = once
                    if mode == "graph":
                        side = torch.cuda.Stream()
                        side.wait_stream(torch.cuda.current_stream())
                        with torch.cuda.stream(side):
                            for _ in range(3):
                                once()
                        torch.cuda.current_stream().wait_stream(side)
                        graph = torch.cuda.CUDAGraph()
                        with torch.cuda.graph(graph):
                            once()
                        fn = graph.replay
                    r = phase(f"{shape}-b{b}-{mode}", fn, a.secs, sync, gpu)
                    r.update(shape=shape, batch=b, mode=mode, params=m.params,
                             j_per_token=r["joules"] / (r["steps"] * b),
                             finite=bool(torch.isfinite(cache[-1]).all()))
                    result["phases"].append(r)
                    print(f"{r['phase']:>26}  {r['step_ms']:8.3f} ms/step  {r['watts']:6.1f} W  "
                          f"{r['j_per_token']:.4f} J/token", flush=True)
                    save()
                # The closure and the graph hold the cache: drop them before the next allocation.
                del cache, tok, once, fn
                graph = None
                if not a.cpu:
                    torch.cuda.empty_cache()
            del m
            if not a.cpu:
                torch.cuda.empty_cache()
    save()


if __name__ == "__main__":
    main()
