#!/usr/bin/env python3
"""Two ollm builds side by side on the same models, interleaved (A B A B ...), so that machine
drift lands on both: for refactors that must not cost speed. Prints a Markdown table of pp and tg
(mean of the rounds' medians) and the ratio B/A.

  scripts/bench/ab_ollm.py OLD/bin/ollm NEW/bin/ollm MODEL.gguf [MODEL.gguf ...] [--rounds 5] [-p 128] [-n 64]
"""
import argparse
import json
import statistics
import subprocess


def bench(binary, model, p, n, threads):
    out = subprocess.run([binary, "bench", "-m", model, "-p", str(p), "-n", str(n), "-r", "3", "--warmup", "1",
                          "-t", str(threads), "--json"], check=True, capture_output=True, text=True).stdout
    res = {r["test"]: r["tokens_per_s_mean"] for r in json.loads(out)["results"]}
    return res[f"pp{p}"], res[f"tg{n}"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-p", type=int, default=128)
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("-t", type=int, default=2)
    a = ap.parse_args()
    print(f"| model | pp{a.p} old | pp{a.p} new | new/old | tg{a.n} old | tg{a.n} new | new/old |")
    print("|---|---|---|---|---|---|---|")
    for model in a.models:
        runs = {"old": [], "new": []}
        for _ in range(a.rounds):
            for key, binary in (("old", a.old), ("new", a.new)):
                runs[key].append(bench(binary, model, a.p, a.n, a.t))
        pp = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
        tg = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
        name = model.rsplit("/", 1)[-1]
        print(f"| {name} | {pp['old']:.1f} | {pp['new']:.1f} | {pp['new'] / pp['old']:.3f} | "
              f"{tg['old']:.1f} | {tg['new']:.1f} | {tg['new'] / tg['old']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
