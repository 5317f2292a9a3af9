#!/usr/bin/env python3
# llama.cpp's figures against the exact reference (tests/data/gemma3/exact_goldens.json, from
# make_gemma3_exact_goldens.py): the same teacher-forced sequences evaluated in one batch by
# llama-cpp-python (logits_all, default F16 KV cache), scored as tests/model/gemma3_vs_exact.cpp
# scores ollm (top-1 agreement over every position; normalised logit error on the sampled ids).
# For docs/MODELS.md's side-by-side table; the test suite never runs it.
#   /tmp/lcp/bin/python scripts/reference/llamacpp_vs_exact.py [--model ...] [--goldens tests/data/gemma3]
import argparse, json, os
import numpy as np
from llama_cpp import Llama

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--model", default=os.path.expanduser("~/.cache/ollm/models/gemma-3-270m-q4_k_m.gguf"))
ap.add_argument("--goldens", default=os.path.join(root, "tests", "data", "gemma3"))
args = ap.parse_args()
d = json.load(open(os.path.join(args.goldens, "exact_goldens.json")))
sample = np.fromfile(os.path.join(args.goldens, "exact_logits_sample.f32"), dtype="<f4").reshape(d["n_positions"], -1)
ids_s = np.array(d["sample_ids"])
llm = Llama(model_path=args.model, n_ctx=512, n_batch=512, n_threads=2, logits_all=True, verbose=False, seed=1234)
agree = pos = 0
err = ref = 0.0
per = []
for s in d["sequences"]:
    llm.reset()
    llm.eval(s["ids"])
    logits = np.array(llm.scores[: len(s["ids"])], dtype=np.float32)
    for p, q in enumerate(s["positions"]):
        row = logits[p]
        agree += int(np.argmax(row)) == q["top1"]
        r = sample[pos].astype(np.float64)
        e = ((row[ids_s].astype(np.float64) - r) ** 2).sum()
        err += e; ref += (r * r).sum(); per.append(e / (r * r).sum())
        pos += 1
print(json.dumps({"engine": "llama.cpp (llama-cpp-python)", "positions": pos, "top1_agreement": agree / pos,
                  "nmse_pooled": err / ref, "nmse_median": float(np.median(per))}))
