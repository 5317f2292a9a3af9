#!/usr/bin/env python3
"""Smoke test of `ollm bench`: the --json output parses, has the documented keys, and every test
measured a positive speed; a bad argument is a usage error (exit 2).

  cli_bench.py OLLM MODEL.gguf
"""
import json
import subprocess
import sys

REQUIRED = ["model", "machine", "build", "results", "load_ms", "ttft_ms", "peak_rss_bytes", "weight_bytes",
            "bytes_per_token"]
RESULT_KEYS = ["test", "threads", "n_prompt", "n_gen", "sequences", "tokens_per_s_mean", "tokens_per_s_stddev", "samples"]


def main() -> int:
    ollm, model = sys.argv[1], sys.argv[2]
    failures = []
    # One thread: ctest may run other tests beside this one.
    run = subprocess.run([ollm, "bench", "-m", model, "-p", "16", "-n", "8", "-s", "1,3", "--repetitions", "2", "-t", "1", "--json"],
                         capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        print(f"FAIL: ollm bench exited {run.returncode}: {run.stderr}")
        return 1
    try:
        doc = json.loads(run.stdout)
    except json.JSONDecodeError as e:
        print(f"FAIL: output is not JSON ({e}): {run.stdout[:500]}")
        return 1
    failures += [f"missing key '{k}'" for k in REQUIRED if k not in doc]
    for k in ("cpu", "cores", "isa"):
        if k not in doc.get("machine", {}):
            failures.append(f"missing key 'machine.{k}'")
    for k in ("version", "isa"):
        if k not in doc.get("build", {}):
            failures.append(f"missing key 'build.{k}'")
    by_test = {r.get("test"): r for r in doc.get("results", [])}
    for name, n_prompt, n_gen, seqs in (("pp16", 16, 0, 1), ("tg8", 0, 8, 1), ("tg8x3", 0, 8, 3)):
        r = by_test.get(name)
        if r is None:
            failures.append(f"no result for {name} (have {sorted(by_test)})")
            continue
        failures += [f"{name}: missing key '{k}'" for k in RESULT_KEYS if k not in r]
        if (r.get("n_prompt"), r.get("n_gen"), r.get("threads"), r.get("sequences")) != (n_prompt, n_gen, 1, seqs):
            failures.append(f"{name}: n_prompt/n_gen/threads/sequences {r.get('n_prompt')}/{r.get('n_gen')}/"
                            f"{r.get('threads')}/{r.get('sequences')}")
        samples = r.get("samples", [])
        if len(samples) != 2 or not all(isinstance(s, (int, float)) and s > 0 for s in samples):
            failures.append(f"{name}: samples {samples} (want 2 positive)")
        if not (isinstance(r.get("tokens_per_s_mean"), (int, float)) and r["tokens_per_s_mean"] > 0):
            failures.append(f"{name}: tokens_per_s_mean {r.get('tokens_per_s_mean')}")
    for k in ("load_ms", "ttft_ms", "peak_rss_bytes", "weight_bytes", "bytes_per_token"):
        v = doc.get(k)
        if not (isinstance(v, (int, float)) and v > 0):
            failures.append(f"{k} = {v!r}, want a positive number")
    if isinstance(doc.get("peak_rss_bytes"), int) and isinstance(doc.get("weight_bytes"), int) \
            and doc["peak_rss_bytes"] < doc["weight_bytes"]:
        failures.append("peak_rss_bytes below weight_bytes: the weights were never touched?")

    # Usage errors exit 2, before any model is loaded.
    for args in (["-p", "abc"], ["--repetitions", "0"], ["--device", "tpu"], ["-p", "0", "-n", "0"], ["--bogus"], ["-s", "0"]):
        bad = subprocess.run([ollm, "bench", "-m", model, *args], capture_output=True, text=True, timeout=60)
        if bad.returncode != 2:
            failures.append(f"ollm bench {' '.join(args)}: exit {bad.returncode}, want 2 ({bad.stderr.strip()})")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok:", ", ".join(f"{t} {r['tokens_per_s_mean']:.1f} tok/s" for t, r in by_test.items()))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
