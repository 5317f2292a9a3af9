#!/usr/bin/env python3
# HF `tokenizers` on the inputs of tests/bench/tokenizer_bench.cpp: load time of each
# tokenizer.json and single-thread encode MB/s over the golden corpus (one encode() per text,
# the same calls ollm makes; RAYON_NUM_THREADS=1 so nothing runs in parallel).
#   python3 scripts/bench/tokenizers_reference_bench.py <build>/testdata/tokenizers [name...]
import json
import os
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import Tokenizer  # noqa: E402


def main():
    data = sys.argv[1]
    names = sys.argv[2:] or ["llama3", "qwen3", "deepseek-v3", "gpt-oss", "gemma3", "sentencepiece-32k"]
    with open(os.path.join(data, "goldens", "corpus.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    print(f"corpus: {len(texts)} texts, {nbytes / 1e6:.2f} MB")
    print(f"{'tokenizer':<20} {'load ms':>10} {'encode MB/s':>12} {'batch MB/s':>11}")
    for name in names:
        path = os.path.join(data, name, "tokenizer.json")
        best_load = 1e9
        for _ in range(3):
            t0 = time.perf_counter()
            tok = Tokenizer.from_file(path)
            best_load = min(best_load, time.perf_counter() - t0)
        tok.no_truncation()
        tok.no_padding()
        for t in texts:
            tok.encode(t)
        best = 1e9
        for _ in range(5):
            t0 = time.perf_counter()
            for t in texts:
                tok.encode(t)
            best = min(best, time.perf_counter() - t0)
        best_batch = 1e9
        for _ in range(3):
            t0 = time.perf_counter()
            tok.encode_batch(texts)
            best_batch = min(best_batch, time.perf_counter() - t0)
        print(f"{name:<20} {best_load * 1e3:>10.1f} {nbytes / 1e6 / best:>12.2f} {nbytes / 1e6 / best_batch:>11.2f}")


if __name__ == "__main__":
    main()
