#!/usr/bin/env python3
"""ollm against llama.cpp on the same GGUF files: prompt processing (ppP) and generation (tgN)
tokens/s, load time and peak memory, in one interleaved run, with the machine's read bandwidth
measured in the same run. Writes a Markdown table, a PNG chart and the raw JSON.

  scripts/bench/compare.sh [options]        (makes the venv, models and build, then runs this)
  compare_llamacpp.py --models gemma3,llama1b-q4_0 --reps 1 -p 64 -n 16 --out-dir /tmp/bench

Models: "gemma3" (the real Gemma 3 270M Q4_K_M, scripts/get-model.sh), SHAPE-TYPE names of
make_random_llama.py (llama1b-f16, llama1b-q8_0, llama1b-q6_k, llama1b-q4_0, llama1b-q4_k_m,
llama8b-q4_k_m; generated when missing), or a path to any .gguf file.

Method (also written into the Markdown):
- Each repetition is one fresh process per engine, ollm then llama.cpp, alternating, so slow
  drifts of the shared machine (other load, frequency) hit both alike. Every process loads the
  model, runs --warmup untimed runs of each test, then one timed run.
- ollm: `ollm bench -r 1 --json` (see examples/cli/cmd_bench.cpp for its definitions).
- llama.cpp: this file's `llamacpp-worker` mode, through llama-cpp-python's C API bindings,
  timing exactly what llama-bench times: ppP = llama_decode of P random token ids (n_batch 2048,
  n_ubatch 512, one sequence, output of the last position only) + llama_synchronize; tgN = N
  single-token llama_decode calls from an empty KV cache, no sampling. Context defaults
  otherwise (flash attention "auto", F16 KV cache), n_threads = n_threads_batch = -t.
- Read bandwidth: build-bench/tests/matmul_bench BM_read_bandwidth/T/0 (T threads summing a
  1 GiB buffer) before every repetition and after the last. This VM's bandwidth jumps between
  phases (~40-48 and ~65-76 GB/s), so each repetition is paired with the samples on either side
  of it.
- tg bandwidth fraction = bytes_per_token (ollm's count of weight bytes one decode step reads)
  x tokens/s / read bandwidth: per repetition against the mean of its two adjacent samples, the
  median over repetitions reported ("paired"); and, conservatively, the mean tg against the
  highest sample of the whole model's run ("vs max").
- Peak RSS budget = weight bytes + KV cache bytes (ollm's budget for the test lengths) + 100 MB.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import json
import math
import os
import platform
import random
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RANDOM_MODELS = ["llama1b-f16", "llama1b-q8_0", "llama1b-q6_k", "llama1b-q4_0", "llama1b-q4_k_m", "llama8b-q4_k_m"]
ALL_MODELS = ["gemma3"] + RANDOM_MODELS
RSS_SLACK = 100_000_000  # the "+ 100 MB"
TARGET_TG, TARGET_PP, TARGET_BW, TARGET_LOAD_MS = 1.25, 1.5, 0.85, 50.0


# ----------------------------------------------------------------------------------------------
# llama.cpp worker: one process, one model, prints one JSON object shaped like `ollm bench --json`.

def llamacpp_worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="compare_llamacpp.py llamacpp-worker")
    ap.add_argument("model")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--load-reps", type=int, default=0, help="timed loads after the first (0: only the first)")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args(argv)

    import llama_cpp as L

    # Keep llama.cpp's log off stdout/stderr; the callback object must outlive every call.
    quiet = L.llama_log_callback(lambda level, text, user_data: None)
    L.llama_log_set(quiet, ctypes.c_void_p(0))
    L.llama_backend_init()

    def load():
        mp = L.llama_model_default_params()
        mp.use_mmap = True
        model = L.llama_model_load_from_file(a.model.encode(), mp)
        if not model:
            raise SystemExit(f"llama.cpp could not load {a.model}")
        cp = L.llama_context_default_params()
        cp.n_ctx = max(a.p + 1, a.n + 1) + 16   # as ollm bench sizes its KV budget
        cp.n_batch = 2048                       # llama-bench's defaults
        cp.n_ubatch = 512
        cp.n_threads = a.t
        cp.n_threads_batch = a.t
        cp.no_perf = True
        ctx = L.llama_init_from_model(model, cp)
        if not ctx:
            raise SystemExit("llama_init_from_model failed")
        return model, ctx

    load_ms: list[float] = []
    model = ctx = None
    for i in range(1 + a.load_reps):
        if ctx is not None:
            L.llama_free(ctx)
            L.llama_model_free(model)
        t0 = time.perf_counter()
        model, ctx = load()
        ms = (time.perf_counter() - t0) * 1e3
        load_ms.append(ms)
    first_load = load_ms.pop(0)

    vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    rng = random.Random(a.seed)
    mem = L.llama_get_memory(ctx)

    def decode(ids: list[int]) -> None:
        arr = (L.llama_token * len(ids))(*ids)
        if L.llama_decode(ctx, L.llama_batch_get_one(arr, len(ids))) != 0:
            raise SystemExit("llama_decode failed")

    def pp_once(n: int) -> float:
        ids = [rng.randrange(vocab) for _ in range(n)]
        L.llama_memory_clear(mem, True)
        t0 = time.perf_counter()
        for i in range(0, n, 2048):
            decode(ids[i:i + 2048])
        L.llama_synchronize(ctx)
        return time.perf_counter() - t0

    def tg_once(n: int) -> float:
        L.llama_memory_clear(mem, True)
        tok = rng.randrange(vocab)
        t0 = time.perf_counter()
        for _ in range(n):
            decode([tok])
            L.llama_synchronize(ctx)
            tok = rng.randrange(vocab)
        return time.perf_counter() - t0

    results = []
    for kind, count, fn in (("pp", a.p, pp_once), ("tg", a.n, tg_once)):
        if count <= 0:
            continue
        for _ in range(a.warmup):
            fn(count)
        secs = [fn(count) for _ in range(a.reps)]
        tps = [count / s for s in secs]
        results.append({"test": f"{kind}{count}", "threads": a.t, "n_prompt": count if kind == "pp" else 0,
                        "n_gen": count if kind == "tg" else 0, "tokens_per_s_mean": statistics.fmean(tps),
                        "tokens_per_s_stddev": statistics.stdev(tps) if len(tps) > 1 else 0.0,
                        "samples": tps, "ms_samples": [s * 1e3 for s in secs]})
    desc = ctypes.create_string_buffer(256)
    L.llama_model_desc(model, desc, len(desc))
    doc = {
        "engine": "llama.cpp",
        "llama_cpp_python": L.__version__,
        "system_info": L.llama_print_system_info().decode(errors="replace").strip(),
        "model": a.model, "model_type": desc.value.decode(errors="replace"),
        "model_size": L.llama_model_size(model), "params": L.llama_model_n_params(model),
        "results": results,
        "load_ms": statistics.median(load_ms) if load_ms else first_load, "load_ms_first": first_load,
        "load_ms_samples": load_ms,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    L.llama_free(ctx)
    L.llama_model_free(model)
    print(json.dumps(doc))
    return 0


# ----------------------------------------------------------------------------------------------
# Driver.

def log(msg: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def resolve_model(name: str, models_dir: Path, generate: bool) -> Path:
    if name == "gemma3":
        out = subprocess.run([str(REPO / "scripts" / "get-model.sh")], check=True, capture_output=True, text=True)
        return Path(out.stdout.strip().splitlines()[-1])
    if name.endswith(".gguf"):
        return Path(name)
    path = models_dir / f"{name}.gguf"
    if not path.exists():
        if not generate:
            raise SystemExit(f"{path} is missing (run scripts/bench/make_random_llama.py or drop --no-generate)")
        log(f"generating {name} (make_random_llama.py)")
        subprocess.run([sys.executable, str(REPO / "scripts" / "bench" / "make_random_llama.py"),
                        "--out-dir", str(models_dir), "--models", name], check=True)
    return path


def read_bandwidth(matmul_bench: Path, threads: int) -> float | None:
    """GB/s of T threads summing a 1 GiB buffer (matmul_bench has T = 1 and 2)."""
    t = threads if threads in (1, 2) else 2
    if not matmul_bench.exists():
        log(f"{matmul_bench} not found: no bandwidth reference")
        return None
    out = subprocess.run([str(matmul_bench), f"--benchmark_filter=^BM_read_bandwidth/{t}/0(/|$)",
                          "--benchmark_format=json"], capture_output=True, text=True)
    if out.returncode != 0:
        log(f"matmul_bench failed: {out.stderr.strip()[:300]}")
        return None
    runs = json.loads(out.stdout)["benchmarks"]
    return max(r["GB/s"] for r in runs) if runs else None


def run_json(cmd: list[str]) -> tuple[dict | None, str]:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return None, f"exit {out.returncode}: {out.stderr.strip()[-500:]}"
    try:
        return json.loads(out.stdout), ""
    except json.JSONDecodeError as e:
        return None, f"bad JSON ({e}): {out.stdout[:300]}"


def merge_reps(docs: list[dict]) -> dict[str, dict]:
    """Per test: every repetition's samples together, with mean and sample stddev."""
    tests: dict[str, dict] = {}
    for d in docs:
        for r in d["results"]:
            t = tests.setdefault(r["test"], {"samples": []})
            t["samples"] += r["samples"]
    for t in tests.values():
        s = t["samples"]
        t["mean"] = statistics.fmean(s)
        t["stddev"] = statistics.stdev(s) if len(s) > 1 else 0.0
    return tests


def bench_model(name: str, path: Path, a: argparse.Namespace) -> dict:
    rec: dict = {"name": name, "path": str(path), "ollm": [], "llamacpp": [], "errors": [], "bandwidth_gbs": []}
    for rep in range(a.reps):
        rec["bandwidth_gbs"].append(read_bandwidth(a.matmul_bench, a.threads))
        first = rep == 0  # load-time medians come from the first repetition's extra loads
        ollm_cmd = [str(a.ollm), "bench", "-m", str(path), "-p", str(a.p), "-n", str(a.n), "-t", str(a.threads),
                    "-r", "1", "--warmup", str(a.warmup), "--load-repetitions", str(5 if first else 1), "--json"]
        llama_cmd = [sys.executable, __file__, "llamacpp-worker", str(path), "-p", str(a.p), "-n", str(a.n),
                     "-t", str(a.threads), "--reps", "1", "--warmup", str(a.warmup),
                     "--load-reps", str(5 if first else 0)]
        for engine, cmd in (("ollm", ollm_cmd), ("llamacpp", llama_cmd)):
            if engine == "llamacpp" and a.ollm_only:
                continue
            log(f"{name} rep {rep + 1}/{a.reps}: {engine}")
            doc, err = run_json(cmd)
            if doc is None:
                rec["errors"].append(f"{engine}: {err}")
                log(f"{name}: {engine} failed: {err}")
            else:
                doc["_first_rep"] = first
                doc["_rep"] = rep
                rec[engine].append(doc)
    rec["bandwidth_gbs"].append(read_bandwidth(a.matmul_bench, a.threads))
    return rec


def summarize(rec: dict, a: argparse.Namespace) -> dict:
    """One table row: speeds, ratios, bandwidth fraction, load, memory."""
    pp, tg = f"pp{a.p}", f"tg{a.n}"
    row: dict = {"name": rec["name"], "errors": rec["errors"]}
    o, l = rec["ollm"], rec["llamacpp"]
    samples = [b for b in rec["bandwidth_gbs"] if b]
    bw = max(samples) if samples else None
    row["bandwidth_gbs"] = bw
    row["bandwidth_samples_gbs"] = rec["bandwidth_gbs"]
    if o:
        ot = merge_reps(o)
        row.update(format=o[0]["file_type"], size_bytes=o[0]["weight_bytes"], bytes_per_token=o[0]["bytes_per_token"],
                   ollm_pp=ot.get(pp), ollm_tg=ot.get(tg),
                   ollm_load_ms=next((d["load_ms"] for d in o if d["_first_rep"]), o[0]["load_ms"]),
                   ollm_ttft_ms=statistics.fmean(d["ttft_ms"] for d in o) if o[0].get("ttft_ms") else None,
                   ollm_rss=max(d["peak_rss_bytes"] for d in o),
                   rss_budget=o[0]["weight_bytes"] + o[0]["kv_cache_bytes"] + RSS_SLACK)
    if l:
        lt = merge_reps(l)
        row.update(llama_pp=lt.get(pp), llama_tg=lt.get(tg),
                   llama_load_ms=next((d["load_ms"] for d in l if d["_first_rep"]), l[0]["load_ms"]),
                   llama_rss=max(d["peak_rss_bytes"] for d in l))

    def ratio(x, y):
        return x["mean"] / y["mean"] if x and y and y["mean"] > 0 else None

    row["pp_ratio"] = ratio(row.get("ollm_pp"), row.get("llama_pp"))
    row["tg_ratio"] = ratio(row.get("ollm_tg"), row.get("llama_tg"))
    for eng, docs in (("ollm", o), ("llama", l)):
        t = row.get(f"{eng}_tg")
        bpt = row.get("bytes_per_token")
        row[f"{eng}_bw_frac_vs_max"] = bpt * t["mean"] / (bw * 1e9) if t and bw and bpt else None
        paired = []
        for d in docs:
            i = d.get("_rep", -1)
            around = [rec["bandwidth_gbs"][j] for j in (i, i + 1) if 0 <= j < len(rec["bandwidth_gbs"])]
            around = [b for b in around if b]
            tg_rep = next((r["samples"][0] for r in d["results"] if r["test"] == tg), None)
            if around and tg_rep and bpt:
                paired.append(bpt * tg_rep / (statistics.fmean(around) * 1e9))
        row[f"{eng}_bw_frac"] = statistics.median(paired) if paired else None
    return row


# ----------------------------------------------------------------------------------------------
# Report.

def fmt_speed(t: dict | None) -> str:
    return f"{t['mean']:.2f} ± {t['stddev']:.2f}" if t else "—"


def fmt_ratio(r: float | None, target: float) -> str:
    if r is None:
        return "—"
    return f"**{r:.2f}×**" if r >= target else f"{r:.2f}× ✗"


def fmt_frac(f: float | None) -> str:
    return "—" if f is None else (f"{f:.2f}" if f >= TARGET_BW else f"{f:.2f} ✗")


def mib(b: float) -> str:
    return f"{b / 2**20:.0f}"


def markdown(rows: list[dict], a: argparse.Namespace, meta: dict) -> str:
    pp, tg = f"pp{a.p}", f"tg{a.n}"
    lines = [
        "# ollm vs llama.cpp",
        "",
        f"Run {meta['date']} on {meta['cpu']} ({meta['cores']} cores; ollm kernels: {meta['ollm_isa']}), "
        f"{a.threads} threads, {a.reps} interleaved repetitions per engine, {a.warmup} warm-up run(s) per process. "
        f"llama.cpp: llama-cpp-python {meta.get('llama_cpp_python', '?')} "
        f"({meta.get('llama_system_info', '?')}).",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"| model | format | size GiB | ollm {pp} t/s | llama.cpp {pp} t/s | ratio | ollm {tg} t/s | llama.cpp {tg} t/s "
        f"| ratio | {tg} bw fraction ollm / llama.cpp (paired; vs max) | read GB/s (samples) | load ms ollm / llama.cpp | peak RSS MiB ollm / "
        "budget / llama.cpp |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "format" not in r:
            lines.append(f"| {r['name']} | error: {'; '.join(r['errors'])[:200]} |" + " |" * 11)
            continue
        rss = f"{mib(r['ollm_rss'])} / {mib(r['rss_budget'])}"
        if r["ollm_rss"] > r["rss_budget"]:
            rss += " ✗"
        rss += f" / {mib(r['llama_rss'])}" if r.get("llama_rss") else " / —"
        load = f"{r['ollm_load_ms']:.1f}"
        if r["name"] == "gemma3" and r["ollm_load_ms"] >= TARGET_LOAD_MS:
            load += " ✗"
        load += f" / {r['llama_load_ms']:.1f}" if r.get("llama_load_ms") is not None else " / —"
        bwf = (f"{fmt_frac(r.get('ollm_bw_frac'))} / " + (f"{r['llama_bw_frac']:.2f}" if r.get("llama_bw_frac") else "—")
               + f"; {fmt_frac(r.get('ollm_bw_frac_vs_max'))} / "
               + (f"{r['llama_bw_frac_vs_max']:.2f}" if r.get("llama_bw_frac_vs_max") else "—"))
        bw_txt = ", ".join(f"{b:.0f}" for b in r.get("bandwidth_samples_gbs", []) if b) or "—"
        lines.append(
            f"| {r['name']} | {r['format']} | {r['size_bytes'] / 2**30:.2f} | {fmt_speed(r.get('ollm_pp'))} "
            f"| {fmt_speed(r.get('llama_pp'))} | {fmt_ratio(r.get('pp_ratio'), TARGET_PP)} "
            f"| {fmt_speed(r.get('ollm_tg'))} | {fmt_speed(r.get('llama_tg'))} | {fmt_ratio(r.get('tg_ratio'), TARGET_TG)} "
            f"| {bwf} | {bw_txt} | {load} | {rss} |")
        for e in r["errors"]:
            lines.append(f"|  | error: {e[:200]} |" + " |" * 11)
    lines += [
        "",
        f"Targets (issue 7): {tg} ratio ≥ {TARGET_TG}, {pp} ratio ≥ {TARGET_PP}, {tg} bandwidth fraction ≥ "
        f"{TARGET_BW}, Gemma 3 270M load < {TARGET_LOAD_MS:.0f} ms, peak RSS ≤ budget; bold = met, ✗ = missed.",
        "",
        "t/s: mean ± sample standard deviation over the repetitions. Ratio = ollm / llama.cpp. "
        "Bandwidth fraction = weight bytes one decode step reads × tg t/s ÷ the read bandwidth measured in this run: "
        "paired = each repetition against the mean of the samples taken just before and after it, median over "
        "repetitions (this VM's bandwidth jumps between ~40-48 and ~65-76 GB/s phases); vs max = mean tg against "
        "the highest sample of the model's run (conservative). Load: median of 5 loads after a first (warm page cache); "
        "for ollm Model::load + Engine, for llama.cpp model load + context. Peak RSS budget = weight bytes + "
        "KV cache for the test lengths + 100 MB; llama.cpp's figure includes the Python interpreter (~30 MB).",
        "",
        "Method: scripts/bench/compare_llamacpp.py (docstring); raw data: compare_llamacpp.json.",
    ]
    return "\n".join(lines) + "\n"


def chart(rows: list[dict], a: argparse.Namespace, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if "format" in r]
    names = [r["name"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(max(9, 1.6 * len(rows) * 3), 4.2))
    panels = [(f"pp{a.p}: ollm / llama.cpp", [r.get("pp_ratio") for r in rows], TARGET_PP),
              (f"tg{a.n}: ollm / llama.cpp", [r.get("tg_ratio") for r in rows], TARGET_TG),
              (f"tg{a.n}: fraction of read bandwidth", [r.get("ollm_bw_frac") for r in rows], TARGET_BW)]
    for ax, (title, vals, target) in zip(axes, panels):
        v = [x if x is not None else 0.0 for x in vals]
        colors = ["tab:green" if x >= target else "tab:red" for x in v]
        bars = ax.bar(range(len(v)), v, color=colors)
        if "bandwidth" in title:
            lv = [r.get("llama_bw_frac") or 0.0 for r in rows]
            ax.scatter(range(len(lv)), lv, color="black", marker="_", s=300, zorder=3, label="llama.cpp")
            ax.legend(loc="lower right", fontsize=8)
        ax.axhline(target, color="gray", linestyle="--", linewidth=1)
        ax.text(len(v) - 0.5, target, f" target {target}", va="bottom", ha="right", fontsize=8, color="gray")
        if "bandwidth" not in title:
            ax.axhline(1.0, color="black", linewidth=0.6)
        for b, x in zip(bars, v):
            ax.text(b.get_x() + b.get_width() / 2, x, f"{x:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"ollm vs llama.cpp, {a.threads} threads ({dt.date.today().isoformat()})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "llamacpp-worker":
        return llamacpp_worker(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(ALL_MODELS), help=f"comma list (default: {','.join(ALL_MODELS)})")
    ap.add_argument("--models-dir", type=Path, default=Path(os.environ.get("OLLM_BENCH_MODELS", "/work/models-bench")))
    ap.add_argument("--ollm", type=Path, default=REPO / "build-bench" / "bin" / "ollm")
    ap.add_argument("--matmul-bench", type=Path, default=REPO / "build-bench" / "tests" / "matmul_bench")
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions per engine")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs of each test in every process")
    ap.add_argument("-p", type=int, default=512, help="prompt tokens of the pp test")
    ap.add_argument("-n", type=int, default=128, help="generated tokens of the tg test")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--out-dir", type=Path, default=REPO / "docs" / "bench")
    ap.add_argument("--no-generate", action="store_true", help="fail instead of generating a missing model")
    ap.add_argument("--ollm-only", action="store_true", help="skip llama.cpp (checking ollm alone)")
    a = ap.parse_args()
    if a.p <= 0 or a.n <= 0 or a.reps <= 0:
        ap.error("-p, -n and --reps must be positive")
    a.ollm = a.ollm.resolve()
    if not a.ollm.exists():
        ap.error(f"{a.ollm} not found: build it (scripts/bench/compare.sh does)")

    names = [m.strip() for m in a.models.split(",") if m.strip()]
    paths = {m: resolve_model(m, a.models_dir, not a.no_generate) for m in names}
    records, rows = [], []
    for m in names:
        rec = bench_model(m, paths[m], a)
        records.append(rec)
        rows.append(summarize(rec, a))
        r = rows[-1]
        log(f"{m}: pp ratio {r.get('pp_ratio')}, tg ratio {r.get('tg_ratio')}, bw frac {r.get('ollm_bw_frac')}")

    first_ollm = next((d for rec in records for d in rec["ollm"]), {})
    first_llama = next((d for rec in records for d in rec["llamacpp"]), {})
    meta = {
        "date": dt.datetime.now().isoformat(timespec="minutes"),
        "cpu": first_ollm.get("machine", {}).get("cpu", platform.processor()),
        "cores": first_ollm.get("machine", {}).get("cores", os.cpu_count()),
        "ollm_isa": first_ollm.get("build", {}).get("isa", "?"),
        "ollm_version": first_ollm.get("build", {}).get("version", "?"),
        "llama_cpp_python": first_llama.get("llama_cpp_python"),
        "llama_system_info": first_llama.get("system_info"),
        "command": "scripts/bench/compare_llamacpp.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]),
    }
    a.out_dir.mkdir(parents=True, exist_ok=True)
    md = markdown(rows, a, meta)
    (a.out_dir / "compare_llamacpp.md").write_text(md)
    (a.out_dir / "compare_llamacpp.json").write_text(json.dumps(
        {"meta": meta, "args": {k: str(v) for k, v in vars(a).items()}, "rows": rows, "runs": records}, indent=1))
    try:
        chart(rows, a, a.out_dir / "compare_llamacpp.png")
    except ImportError as e:
        log(f"no chart ({e}); pip install matplotlib")
    print(md)
    log(f"wrote {a.out_dir}/compare_llamacpp.{{md,json,png}}")
    return 0 if all(not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
