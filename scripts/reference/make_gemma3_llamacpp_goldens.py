#!/usr/bin/env python3
# Reference goldens for the real Gemma 3 270M model (gemma-3-270m-q4_k_m.gguf, the file
# scripts/get-model.sh fetches) computed with llama.cpp through its Python binding
# llama-cpp-python. Run once by a developer; the test suite only reads the files it writes and
# never needs llama_cpp installed.
#
#   python3 -m venv /tmp/lcp && CMAKE_BUILD_PARALLEL_LEVEL=2 /tmp/lcp/bin/pip install \
#       llama-cpp-python==0.3.36 numpy          # compiles llama.cpp natively (~11 min on 2 cores)
#   /tmp/lcp/bin/python scripts/reference/make_gemma3_llamacpp_goldens.py \
#       [--model ~/.cache/ollm/models/gemma-3-270m-q4_k_m.gguf] [--out tests/data/gemma3]
#
# Generated with: llama-cpp-python 0.3.36 (plain CPU build from the PyPI sdist, default CMake
# options, i.e. GGML_NATIVE on an AVX-512 machine), numpy 2.4.6, CPython 3.11.7, n_threads=2.
# The prompt ids and the perplexity text ids were cross-checked equal to `ollm tokenize --special`.
#
# Writes into --out:
#   llamacpp_goldens.json        (everything below; logits rounded to 6 significant digits)
#   llamacpp_last_logits_0.f32   full float32 logits (little-endian, 262144 values = 1 MiB) at the
#   llamacpp_last_logits_1.f32   last prompt position of greedy prompts 0 and 1 only (size limit)
# and reads perplexity_text.txt from the same directory (see below; --extract-text regenerates it).
#
# "greedy": 20 plain-completion prompts. prompt_ids = llama.cpp's tokenization with BOS added and
# special tokens parsed (Llama.tokenize(text, add_bos=True, special=True)). The prompt is evaluated
# from a fresh KV state in one batch, then 64 tokens are generated greedily: at each step the next
# token is argmax of the raw float32 logits of the last position (numpy argmax, ties -> lowest id;
# no sampler, no repetition penalty, no stop on EOS / <end_of_turn>), fed back one token at a time.
# steps[k] = [top1_id, top1_logit, top2_id, top2_logit] for generated token k (top1_id == gen[k]).
# last_top20 = the 20 largest (id, logit) pairs at the last prompt position, logit descending.
# greedy_small_margins lists every step whose top1-top2 logit margin is below 0.01 (there a tiny
# numerical difference may legitimately flip the argmax; compare teacher-forced along
# generated_ids rather than free-running past such a step). The GGUF is the pretrained base model
# (no chat template in its metadata), so the chat-formatted prompt's continuation is not a sensible
# answer; it is kept as a special-token / low-confidence case. Contexts stay below the model's
# 512-token sliding window, so sliding-window attention never masks anything here.
#
# "self_consistency": llama.cpp against itself — the same continuations teacher-forced in one
# batch versus its own token-by-token decode (only the summation order differs): the floor for
# any other engine's per-step agreement. "position0": single tokens evaluated alone at position 0
# (attention over one key is exact), top-256 logits at full float32 precision, for
# Numerics::llamacpp, which reproduces llama.cpp's rounding steps.
#
# "perplexity": perplexity_text.txt is the opening of Jane Austen's "Persuasion" (1818; public
# domain), lines [0, 168) of the Gutenberg-derived text shipped by the Debian 12 package
# r-cran-janeaustenr 1.0.0-1 (/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb, object
# `persuasion`, an R character vector with one element per line), joined with "\n" plus a final
# "\n" (9158 bytes). `--extract-text r-cran-janeaustenr_1.0.0-1_all.deb` (from
# `apt-get download r-cran-janeaustenr`) rebuilds it; R is not needed. The exact windowing and
# scoring definition is written into the JSON as "method" (see METHOD below).
import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np

N_CTX = 512
N_THREADS = 2
SEED = 1234
N_GEN = 64
TOP_K_LAST = 20
PPL_WINDOW = 256          # tokens per window, including the leading BOS
PPL_SKIP = 32             # window positions 0..31 are context only; positions 32..255 are scored
BIN_LOGIT_PROMPTS = (0, 1)
POS0_TOP = 256            # logits kept per single-token case

METHOD = (
    "ids = llama.cpp tokenize(text, add_bos=True, special=True); ids[0] is BOS (2); "
    "text_ids = ids[1:]. Window w (w = 0 .. floor(len(text_ids)/255)-1) is "
    "[BOS] + text_ids[255*w : 255*w+255] (256 tokens; the incomplete tail is dropped), evaluated "
    "in one batch from a fresh (empty) KV cache at positions 0..255. For each window position "
    "j in 32..255 (224 tokens per window), nll_j = -log_softmax(logits[j-1])[window[j]], with "
    "logits the float32 output of position j-1 converted to float64 and log_softmax computed in "
    "float64 (max-subtracted log-sum-exp). window_mean_nll[w] = mean of its 224 nll_j; "
    "mean_nll = mean over all scored tokens of all windows; perplexity = exp(mean_nll).")

LONG_PARAGRAPH = (
    "The lighthouse keeper climbed the spiral staircase every evening at dusk, carrying a small "
    "brass lantern and a notebook in which he recorded the weather, the ships that passed, and "
    "anything unusual he noticed on the water. Over thirty years the notebooks filled three "
    "shelves in the cottage below the tower. Most entries were brief: wind from the southwest, "
    "light rain, two fishing boats returning before dark. But some pages described storms so "
    "violent that the glass of the lamp room trembled, and one recorded a night when the sea "
    "itself seemed to glow a pale green from the horizon to the rocks. When the lighthouse was "
    "finally automated, the keeper packed his belongings into two trunks, said goodbye to the "
    "gulls, and gave the notebooks to the village library, where")

PROMPTS = [
    # 0: English prose
    "Once upon a time, in a small village nestled between the mountains and the sea, there lived",
    # 1: Gemma chat format (special tokens parsed)
    "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
    # 2: very short
    "The",
    # 3: code
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    # 4: a list
    "Shopping list:\n1. Milk\n2. Eggs\n3.",
    # 5: a question
    "Question: Why is the sky blue?\nAnswer:",
    # 6: number sequence
    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,",
    # 7: French
    "Il était une fois, dans un petit village de Provence, une jeune fille qui",
    # 8: German
    "Die Geschichte der Stadt Berlin beginnt im 13. Jahrhundert, als",
    # 9: Chinese
    "中国的首都是北京。北京是一座历史悠久的城市，",
    # 10: Japanese
    "日本の首都は東京です。東京は",
    # 11: emoji string
    "I love pizza 🍕 and sushi 🍣! Today's mood: 😀🎉🚀✨ and tomorrow's mood:",
    # 12: longer (~150 tokens) paragraph
    LONG_PARAGRAPH,
    # 13: JSON
    "{\"name\": \"Alice\", \"age\": 30, \"languages\": [\"English\",",
    # 14: arithmetic
    "The sum of 17 and 25 is",
    # 15: C++
    "#include <iostream>\n\nint main() {\n",
    # 16: Markdown
    "# Installation\n\nTo install the package, run:\n\n```bash\n",
    # 17: whitespace / tabs / blank lines
    "Name:\tJohn Smith\nAge:\t42\n\n\nOccupation:\t",
    # 18: Spanish
    "La ciudad de Madrid es la capital de España y",
    # 19: translation-style prompt
    "Translate to English: Je suis très content de vous voir.\nEnglish:",
]
assert len(PROMPTS) == 20

PERSUASION_LINES = (0, 168)


def r6(x):
    """Round to 6 significant digits (as a JSON number)."""
    return float(f"{float(x):.6g}")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def log_softmax64(logits_f32):
    x = np.asarray(logits_f32, dtype=np.float64)
    m = x.max()
    return x - (m + math.log(np.exp(x - m).sum()))


def top_k(logits, k):
    # largest k by logit, ties broken by lower id
    idx = np.argpartition(-logits, k)[: k + 8]
    order = sorted(idx.tolist(), key=lambda i: (-float(logits[i]), i))
    return order[:k]


# ---------------------------------------------------------------- text extraction (optional)
def extract_persuasion(deb_path):
    """Reads `persuasion` from the R lazy-load database inside r-cran-janeaustenr's .deb."""
    import gzip
    import io
    import lzma
    import bz2
    import struct
    import tarfile
    import zlib

    # .deb = ar archive; data.tar.* holds the files
    raw = open(deb_path, "rb").read()
    assert raw[:8] == b"!<arch>\n"
    pos, members = 8, {}
    while pos < len(raw):
        name = raw[pos:pos + 16].decode().strip().rstrip("/")
        size = int(raw[pos + 48:pos + 58].decode().strip())
        members[name] = raw[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
    data_name = next(n for n in members if n.startswith("data.tar"))
    tf = tarfile.open(fileobj=io.BytesIO(members[data_name]))
    base = "./usr/lib/R/site-library/janeaustenr/data/Rdata."
    rdx = tf.extractfile(base + "rdx").read()
    rdb = tf.extractfile(base + "rdb").read()

    class Unser:  # minimal R XDR unserializer: enough for lists, vectors, strings, symbols
        def __init__(self, b):
            self.b, self.p, self.refs = b, 0, []
            assert b[:2] == b"X\n"
            self.p = 2
            ver = self.i()
            self.i(), self.i()
            if ver == 3:
                n = self.i()
                self.p += n
            self.attrs = {}

        def i(self):
            v = struct.unpack(">i", self.b[self.p:self.p + 4])[0]
            self.p += 4
            return v

        def item(self):
            flags = self.i()
            t, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
            if t == 254:
                return None
            if t == 255:
                k = flags >> 8 or self.i()
                return self.refs[k - 1]
            if t == 1:
                v = ("sym", self.item())
                self.refs.append(v)
                return v
            if t == 9:
                n = self.i()
                if n == -1:
                    return None
                v = self.b[self.p:self.p + n].decode("utf-8")
                self.p += n
                return v
            if t == 2:
                attr = self.item() if has_attr else None
                tag = self.item() if has_tag else None
                car, cdr = self.item(), self.item()
                return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
            n = self.i()
            if t in (16, 19):
                v = [self.item() for _ in range(n)]
            elif t in (10, 13):
                v = list(struct.unpack(">%di" % n, self.b[self.p:self.p + 4 * n]))
                self.p += 4 * n
            elif t == 14:
                v = list(struct.unpack(">%dd" % n, self.b[self.p:self.p + 8 * n]))
                self.p += 8 * n
            else:
                raise ValueError("R type %d not handled" % t)
            if has_attr:
                attr = self.item()
                names = [c for tag, c in attr if tag == ("sym", "names")]
                if names:
                    v = dict(zip(names[0], v))
            return v

    def unpack_obj(b):
        t = b[4:5]
        if t == b"Z":
            return zlib.decompress(b[5:])
        if t == b"2":
            return bz2.decompress(b[5:])
        if t == b"X":
            return lzma.decompress(b[5:])
        if t == b"0":
            return b[5:]
        return zlib.decompress(b[4:])

    index = Unser(gzip.decompress(rdx)).item()
    off, n = index["variables"]["persuasion"]
    lines = Unser(unpack_obj(rdb[off:off + n])).item()
    a, b = PERSUASION_LINES
    return "\n".join(lines[a:b]) + "\n"


def dump(v, ind=0):
    """JSON with dicts indented and lists of numbers/short lists kept on one line."""
    pad, pad1 = " " * ind, " " * (ind + 1)
    if isinstance(v, dict):
        items = [f"{pad1}{json.dumps(k, ensure_ascii=False)}: {dump(x, ind + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
        if all(isinstance(x, list) and not any(isinstance(y, (dict, list)) for y in x) for x in v) \
                and all(len(x) <= 4 for x in v) and len(v) <= 20:
            return "[" + ", ".join(json.dumps(x, separators=(",", ":")) for x in v) + "]"
        return "[\n" + ",\n".join(pad1 + dump(x, ind + 1) for x in v) + "\n" + pad + "]"
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": ") if isinstance(v, list) else None)


# ---------------------------------------------------------------- llama.cpp helpers
def perf(llm, llama_cpp):
    try:
        d = llama_cpp.llama_perf_context(llm.ctx)
        return {"t_p_eval_ms": d.t_p_eval_ms, "n_p_eval": d.n_p_eval,
                "t_eval_ms": d.t_eval_ms, "n_eval": d.n_eval}
    except Exception:  # pragma: no cover - older/newer binding
        return None


def perf_reset(llm, llama_cpp):
    try:
        llama_cpp.llama_perf_context_reset(llm.ctx)
    except Exception:
        pass


def eval_fresh(llm, ids):
    llm.reset()
    llm.eval(ids)
    return llm.scores[: llm.n_tokens]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/ollm/models/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "gemma3"))
    ap.add_argument("--extract-text", metavar="DEB", help="rebuild perplexity_text.txt from r-cran-janeaustenr's .deb")
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    text_path = os.path.join(out, "perplexity_text.txt")
    if args.extract_text:
        text = extract_persuasion(args.extract_text)
        with open(text_path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {text_path} ({len(text.encode())} bytes)")
    with open(text_path, encoding="utf-8", newline="") as f:
        ppl_text = f.read()

    import llama_cpp
    from llama_cpp import Llama

    t0 = time.time()
    llm = Llama(model_path=args.model, n_ctx=N_CTX, logits_all=True, n_threads=N_THREADS,
                n_threads_batch=N_THREADS, seed=SEED, verbose=False)
    n_vocab = llm.n_vocab()
    print(f"loaded in {time.time() - t0:.1f}s, n_vocab={n_vocab}", file=sys.stderr)

    def tok(text):
        return llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def detok(ids):
        return llm.detokenize(ids, special=True).decode("utf-8", errors="replace")

    result = {
        "description": "llama.cpp reference outputs for gemma-3-270m-q4_k_m.gguf; written by "
                       "scripts/reference/make_gemma3_llamacpp_goldens.py",
        "llama_cpp_python_version": llama_cpp.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "llama_system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "model": {"file": os.path.basename(args.model), "size_bytes": os.path.getsize(args.model),
                  "sha256": sha256_of(args.model)},
        "settings": {"n_ctx": N_CTX, "n_threads": N_THREADS, "seed": SEED, "logits_all": True,
                     "n_vocab": n_vocab, "bos_id": llm.token_bos(), "eos_id": llm.token_eos()},
        "logit_rounding": "all logits and NLLs in this file are rounded to 6 significant digits",
    }

    # ------------------------------------------------------------ greedy
    greedy = []
    perf_reset(llm, llama_cpp)
    t_prompt = t_gen = 0.0
    n_prompt_tok = n_gen_tok = 0
    margins = []
    for pi, prompt in enumerate(PROMPTS):
        ids = tok(prompt)
        assert len(ids) + N_GEN <= N_CTX
        t = time.time()
        llm.reset()
        llm.eval(ids)
        t_prompt += time.time() - t
        n_prompt_tok += len(ids)
        last = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        if pi in BIN_LOGIT_PROMPTS:
            last.astype("<f4").tofile(os.path.join(out, f"llamacpp_last_logits_{pi}.f32"))
        top20 = top_k(last, TOP_K_LAST)
        entry = {"index": pi, "prompt": prompt, "prompt_ids": list(ids),
                 "last_top20": [[int(i), r6(last[i])] for i in top20]}
        gen, steps = [], []
        logits = last
        for k in range(N_GEN):
            t1, t2 = top_k(logits, 2)
            steps.append([int(t1), r6(logits[t1]), int(t2), r6(logits[t2])])
            margins.append((float(logits[t1] - logits[t2]), pi, k))
            gen.append(int(t1))
            if k + 1 < N_GEN:  # the 64th token needs no forward pass
                t = time.time()
                llm.eval([int(t1)])
                t_gen += time.time() - t
                n_gen_tok += 1
                logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        entry["generated_ids"] = gen
        entry["steps"] = steps
        entry["generated_text"] = detok(gen)  # informational
        greedy.append(entry)
        print(f"[{pi}] {prompt!r}\n   -> {entry['generated_text']!r}", file=sys.stderr)
    greedy_perf = perf(llm, llama_cpp)

    # determinism check: prompt 0 again from a fresh state must reproduce its last logits exactly
    again = np.array(eval_fresh(llm, tok(PROMPTS[0]))[-1], dtype=np.float32)
    first = np.fromfile(os.path.join(out, "llamacpp_last_logits_0.f32"), dtype="<f4")
    repro_max_abs = float(np.max(np.abs(again - first)))
    print(f"re-evaluation of prompt 0: max |diff| = {repro_max_abs}", file=sys.stderr)

    result["greedy_method"] = (
        "prompt_ids = tokenize(prompt, add_bos=True, special=True); fresh KV cache; prompt "
        "evaluated in one batch; then 64 steps: next = argmax(raw float32 logits of the last "
        "position) (ties -> lowest id), appended and evaluated one token at a time; no sampling, "
        "no penalties, no stop on EOS/<end_of_turn>. steps[k] = [top1_id, top1_logit, top2_id, "
        "top2_logit] of the logits that produced generated_ids[k]; steps[0] comes from the last "
        "prompt position. last_top20 = 20 largest [id, logit] at the last prompt position. "
        "generated_text is the detokenized continuation (informational).")
    result["greedy"] = greedy
    small = sorted(m for m in margins if m[0] < 0.01)
    result["greedy_small_margins"] = [
        {"prompt": pi, "step": k, "margin": r6(m)} for m, pi, k in small]
    result["last_logits_files"] = {
        "note": "full float32 little-endian logits (n_vocab values) at the last prompt position; "
                "stored only for greedy prompts 0 and 1 (1 MiB each) to keep the data small",
        "files": {str(i): f"llamacpp_last_logits_{i}.f32" for i in BIN_LOGIT_PROMPTS},
        "reeval_max_abs_diff": repro_max_abs,
    }

    # ------------------------------------------------------------ llama.cpp against itself
    # The same continuations, teacher-forced: prompt + generated_ids[:-1] in ONE batch (llama.cpp's
    # prompt kernels: tinyBLAS / repacked GEMM, other summation orders) against the token-by-token
    # decode above. This is how far llama.cpp moves from its own decode when only the float
    # summation order changes: the floor for any other engine's per-step agreement.
    self_rel, self_diff, self_small = [], [], 0
    for entry in greedy:
        prompt_ids, gen = entry["prompt_ids"], entry["generated_ids"]
        sc = np.array(eval_fresh(llm, prompt_ids + gen[:-1]), dtype=np.float32)
        for k, st in enumerate(entry["steps"]):
            row = sc[len(prompt_ids) - 1 + k]
            self_rel.append(abs(float(row[st[0]]) - st[1]) / max(1e-6, abs(st[1])))
            top = int(np.argmax(row))
            if top != st[0]:
                if st[1] - st[3] < 0.01:
                    self_small += 1
                else:
                    self_diff.append({"prompt": entry["index"], "step": k, "batch_top1": top,
                                      "margin": r6(st[1] - st[3])})
    self_rel.sort()
    n_steps = len(self_rel)
    result["self_consistency"] = {
        "method": "each greedy continuation teacher-forced: prompt_ids + generated_ids[:-1] evaluated "
                  "in one batch from a fresh KV cache (logits of every position), compared with the "
                  "token-by-token decode logits of 'steps'; top1_agreement excludes steps whose decode "
                  "margin is below 0.01; relative difference = |batch logit of the decode top-1 - "
                  "decode top-1 logit| / |decode top-1 logit|",
        "steps": n_steps,
        "top1_agreement": r6(1 - len(self_diff) / n_steps),
        "differ_small_margin": self_small,
        "top1_logit_rel_diff_median": r6(self_rel[n_steps // 2]),
        "top1_logit_rel_diff_p90": r6(self_rel[n_steps * 9 // 10]),
        "differences": self_diff,
    }
    print(f"llama.cpp batch vs its own decode: agreement {1 - len(self_diff) / n_steps:.4f}, median "
          f"{self_rel[n_steps // 2]:.4f}", file=sys.stderr)

    # ------------------------------------------------------------ single tokens at position 0
    # Attention over one key is exact whatever the rounding, so these logits depend only on the
    # matmuls, norms and activations: a check of an engine that reproduces llama.cpp's rounding
    # (ollm's Numerics::llamacpp) to near float precision. Full float32 precision (9 digits).
    pos0 = []
    for ids0 in ([llm.token_bos()], [tok(PROMPTS[0])[1]], [tok(PROMPTS[3])[1]], [tok(PROMPTS[9])[1]]):
        row = np.array(eval_fresh(llm, ids0)[-1], dtype=np.float32)
        top = top_k(row, POS0_TOP)
        pos0.append({"ids": [int(i) for i in ids0],
                     "top": [[int(i), float(f"{float(row[i]):.9g}")] for i in top],
                     "l2_norm": float(f"{float(np.linalg.norm(row.astype(np.float64))):.9g}")})
    result["position0"] = {
        "method": f"one token evaluated alone at position 0 (fresh KV cache); top = the {POS0_TOP} "
                  "largest [id, logit] (9 significant digits); l2_norm of all n_vocab logits",
        "cases": pos0,
    }

    # ------------------------------------------------------------ perplexity
    ids = tok(ppl_text)
    bos = llm.token_bos()
    assert ids[0] == bos
    text_ids = ids[1:]
    n_win = len(text_ids) // (PPL_WINDOW - 1)
    perf_reset(llm, llama_cpp)
    t_ppl = 0.0
    win_means, all_nll, per_token = [], [], []
    for w in range(n_win):
        window = [bos] + text_ids[w * (PPL_WINDOW - 1):(w + 1) * (PPL_WINDOW - 1)]
        t = time.time()
        sc = np.array(eval_fresh(llm, window), dtype=np.float32)
        t_ppl += time.time() - t
        nll = [-float(log_softmax64(sc[j - 1])[window[j]]) for j in range(PPL_SKIP, PPL_WINDOW)]
        win_means.append(sum(nll) / len(nll))
        all_nll += nll
        per_token.append([r6(x) for x in nll])
    ppl_perf = perf(llm, llama_cpp)
    mean_nll = sum(all_nll) / len(all_nll)
    result["perplexity"] = {
        "text_file": "perplexity_text.txt",
        "text_source": "Jane Austen, Persuasion (1818), public domain; lines [0, 168) of the text in "
                       "Debian 12 package r-cran-janeaustenr 1.0.0-1 "
                       "(/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb, object 'persuasion'), "
                       "joined with newline plus a final newline",
        "text_bytes": len(ppl_text.encode("utf-8")),
        "text_sha256": hashlib.sha256(ppl_text.encode("utf-8")).hexdigest(),
        "method": METHOD,
        "window": PPL_WINDOW, "skip": PPL_SKIP,
        "n_text_tokens": len(text_ids), "n_windows": n_win,
        "token_ids": list(ids),
        "n_scored": len(all_nll),
        "window_mean_nll": [r6(x) for x in win_means],
        "token_nll": per_token,
        "mean_nll": r6(mean_nll),
        "perplexity": r6(math.exp(mean_nll)),
    }
    print(f"perplexity: {n_win} windows, {len(all_nll)} tokens, mean NLL {mean_nll:.5f}, "
          f"ppl {math.exp(mean_nll):.4f}", file=sys.stderr)
    del llm

    # ------------------------------------------------------------ timings (informational)
    bench = Llama(model_path=args.model, n_ctx=N_CTX, logits_all=False, n_threads=N_THREADS,
                  n_threads_batch=N_THREADS, seed=SEED, verbose=False)

    def bench_last():  # logits_all=False: Llama.scores is not filled, read llama.cpp's buffer
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(bench.ctx, -1), shape=(n_vocab,))

    window = [bos] + text_ids[:PPL_WINDOW - 1]
    bench.reset()
    bench.eval(window[:8])  # warm-up
    bench.reset()
    t = time.time()
    bench.eval(window)
    tb_prompt = time.time() - t
    t = time.time()
    for k in range(64):
        bench.eval([int(np.argmax(bench_last()))])
    tb_gen = time.time() - t
    del bench
    result["timings_informational"] = {
        "note": "wall-clock on the generating machine (2 threads, other jobs running: noisy); "
                "llama_perf = llama.cpp's own counters (llama_perf_context); not a test expectation",
        "cpu": platform.processor() or platform.machine(),
        "logits_all_false": {"prompt_tokens": len(window), "prompt_s": tb_prompt,
                             "prompt_tok_per_s": len(window) / tb_prompt,
                             "gen_tokens": 64, "gen_s": tb_gen, "gen_tok_per_s": 64 / tb_gen},
        "logits_all_true_greedy": {"prompt_tokens": n_prompt_tok, "prompt_s": t_prompt,
                                   "gen_tokens": n_gen_tok, "gen_s": t_gen,
                                   "gen_tok_per_s": n_gen_tok / t_gen, "llama_perf": greedy_perf},
        "logits_all_true_perplexity": {"tokens": n_win * PPL_WINDOW, "s": t_ppl,
                                       "tok_per_s": n_win * PPL_WINDOW / t_ppl,
                                       "llama_perf": ppl_perf},
    }
    print(json.dumps(result["timings_informational"], indent=1), file=sys.stderr)

    path = os.path.join(out, "llamacpp_goldens.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(result) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
