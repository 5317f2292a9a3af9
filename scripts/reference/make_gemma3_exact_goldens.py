#!/usr/bin/env python3
# The exact reference for Numerics::exact: the real Gemma 3 270M Q4_K_M GGUF (the file
# scripts/get-model.sh fetches) loaded by Hugging Face transformers, which dequantizes every tensor
# (gguf.quants) and runs the model in float32 on the CPU (eager attention). Run once by a
# developer; the test suite only reads what it writes and never needs torch or transformers.
#
#   python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch transformers accelerate gguf numpy
#   /tmp/ref/bin/python scripts/reference/make_gemma3_exact_goldens.py \
#       [--model ~/.cache/ollm/models/gemma-3-270m-q4_k_m.gguf] [--out tests/data/gemma3] \
#       [--full-logits /tmp/exact_full.f32]
#
# Sequences: the 20 greedy prompts of tests/data/gemma3/llamacpp_goldens.json, each as its
# prompt_ids followed by the first 16 ids llama.cpp generated (teacher forcing; the ids are the
# same for every engine, so nobody's own greedy choice feeds back). Every position of every
# sequence is scored: the logits there are compared with ours (gemma3_vs_exact.cpp).
#
# Writes into --out:
#   exact_goldens.json      per sequence: ids; per position: the reference top-1 id, the margin
#                           to its top-2 logit, and the top-32 (id, logit); the sampled ids below;
#                           versions and the method.
#   exact_logits_sample.f32 float32 little-endian [n_positions, 512]: the reference logits at 512
#                           fixed vocabulary ids (numpy default_rng(2026) choice without
#                           replacement, sorted), in sequence-then-position order. The normalised
#                           error sum((a-b)^2)/sum(b^2) is estimated on them (full logits would be
#                           1 MiB a position).
# --full-logits also saves every position's full float32 logits (not committed) for measuring the
# full-vocabulary error (scripts/reference/compare_exact_logits.py-style offline checks).
import argparse
import json
import os
import platform
import sys

import numpy as np

N_CONTINUATION = 16
TOP_K = 8
N_SAMPLE = 512
SAMPLE_SEED = 2026


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/ollm/models/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--out", default=os.path.join(root, "tests", "data", "gemma3"))
    ap.add_argument("--full-logits", default=None)
    args = ap.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(2)
    goldens = json.load(open(os.path.join(args.out, "llamacpp_goldens.json")))
    model = AutoModelForCausalLM.from_pretrained(
        os.path.dirname(args.model), gguf_file=os.path.basename(args.model), dtype=torch.float32,
        attn_implementation="eager")
    model.eval()
    vocab = model.config.vocab_size
    sample_ids = np.sort(np.random.default_rng(SAMPLE_SEED).choice(vocab, size=N_SAMPLE, replace=False))

    sequences, sample_rows = [], []
    full = open(args.full_logits, "wb") if args.full_logits else None
    for g in goldens["greedy"]:
        ids = list(g["prompt_ids"]) + list(g["generated_ids"][:N_CONTINUATION])
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].to(torch.float32).numpy()
        positions = []
        for row in logits:
            order = np.argsort(-row, kind="stable")[:TOP_K]
            positions.append({
                "top1": int(order[0]),
                "margin": float(row[order[0]] - row[order[1]]),
                "top": [[int(i), float(row[i])] for i in order],
            })
        sample_rows.append(logits[:, sample_ids].astype("<f4"))
        if full:
            full.write(logits.astype("<f4").tobytes())
        sequences.append({"index": g["index"], "ids": ids, "n_prompt": len(g["prompt_ids"]), "positions": positions})
        print(f"sequence {g['index']}: {len(ids)} positions", file=sys.stderr)
    if full:
        full.close()

    samples = np.concatenate(sample_rows)
    samples.tofile(os.path.join(args.out, "exact_logits_sample.f32"))
    out = {
        "description": "float32 transformers reference for gemma-3-270m-q4_k_m.gguf (dequantized); written by "
                       "scripts/reference/make_gemma3_exact_goldens.py",
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "model": goldens["model"],
        "method": f"ids = prompt_ids + the first {N_CONTINUATION} llama.cpp greedy ids of each prompt of "
                  "llamacpp_goldens.json; AutoModelForCausalLM.from_pretrained(gguf_file=..., dtype=float32, "
                  "attn_implementation='eager'); one forward over the whole sequence; every position scored. "
                  f"top = the {TOP_K} largest (id, logit); margin = top1 - top2 logit; exact_logits_sample.f32 = "
                  f"logits at sample_ids for every position in order, float32 [n_positions, {N_SAMPLE}].",
        "n_positions": int(samples.shape[0]),
        "sample_ids": [int(i) for i in sample_ids],
        "sequences": sequences,
    }
    with open(os.path.join(args.out, "exact_goldens.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"{samples.shape[0]} positions", file=sys.stderr)


if __name__ == "__main__":
    main()
