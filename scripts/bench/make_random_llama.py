#!/usr/bin/env python3
"""Random-weight GGUF models shaped like Llama 3.2 1B and Llama 3 8B, for speed comparisons.

Decode and prefill speed depend on shapes and tensor types, not on the values, so the benchmark
models are random: Gaussian weights with std 0.02 (norm weights 1.0, so activations stay in range
and nothing overflows in F16), the real Llama 3 tokenizer (the shared test data's tokenizer.json,
written as llama.cpp's convert_hf_to_gguf.py writes it: tokenizer.ggml.model=gpt2,
pre=llama-bpe), and the real hyper-parameters. The F16 file is written with the `gguf` package,
streaming one tensor at a time (the 8B F16 intermediate is 16 GB; it never sits in memory); the
quantized variants come from llama.cpp's own quantizer (llama_model_quantize through
llama-cpp-python), so ollm and llama.cpp read identical bytes with llama.cpp's mixed-type recipes
(Q4_K_M keeps some tensors in Q6_K, the output matrix in Q6_K, ...).

  python make_random_llama.py --out-dir /work/models-bench \
      --models llama1b-f16,llama1b-q8_0,llama1b-q6_k,llama1b-q4_0,llama1b-q4_k_m,llama8b-q4_k_m

Model names are SHAPE-TYPE (shape: llama1b, llama8b; type: f16, q8_0, q6_k, q4_0, q4_k_m).
Existing files are kept (delete one to regenerate it). The F16 intermediate of a shape whose F16
file was not asked for is deleted after quantizing.
Needs: numpy, gguf, llama-cpp-python (scripts/bench/compare.sh makes a venv with them).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TOKENIZER_ARCHIVE = REPO.parent / "shared" / "testdata" / "tokenizers" / "llama3.tar.xz"

# Hyper-parameters from the models' config.json (meta-llama/Llama-3.2-1B, Meta-Llama-3-8B).
SHAPES = {
    "llama1b": dict(name="Llama-3.2-1B-shaped random", hidden=2048, layers=16, heads=32, kv_heads=8,
                    ffn=8192, vocab=128256, ctx=131072, rope_theta=500000.0, tied=True,
                    # Llama 3.1/3.2 long-context rope: llama.cpp stores it as rope_freqs.weight.
                    rope_scaling=dict(factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                      original_max_position_embeddings=8192)),
    "llama8b": dict(name="Llama-3-8B-shaped random", hidden=4096, layers=32, heads=32, kv_heads=8,
                    ffn=14336, vocab=128256, ctx=8192, rope_theta=500000.0, tied=False, rope_scaling=None),
}

# llama_ftype values (llama.h) and the quantizer's target names.
FTYPES = {"f16": 1, "q4_0": 2, "q8_0": 7, "q4_k_m": 15, "q6_k": 18}

WEIGHT_STD = 0.02


def model_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{name}.gguf"


def load_tokenizer(archive: Path) -> tuple[dict, dict]:
    """tokenizer.json and tokenizer_config.json of the llama3 archive."""
    with tarfile.open(archive) as tar:
        def member(suffix: str) -> dict:
            m = next(m for m in tar.getmembers() if m.name.endswith(suffix))
            f = tar.extractfile(m)
            assert f is not None
            return json.load(f)
        return member("/tokenizer.json"), member("/tokenizer_config.json")


def add_tokenizer(w, tok: dict, tok_cfg: dict, vocab_size: int) -> None:
    """As convert_hf_to_gguf.py's _set_vocab_gpt2 for Llama 3: ids in order, added tokens typed
    CONTROL (special) or USER_DEFINED, unused ids padded as [PADn]."""
    import gguf

    vocab = tok["model"]["vocab"]
    added = {t["id"]: t for t in tok["added_tokens"]}
    tokens: list[str] = []
    types: list[int] = []
    by_id = {i: s for s, i in vocab.items()}
    for i in range(vocab_size):
        if i in added:
            tokens.append(added[i]["content"])
            types.append(gguf.TokenType.CONTROL if added[i].get("special") else gguf.TokenType.USER_DEFINED)
        elif i in by_id:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    content_to_id = {t["content"]: t["id"] for t in tok["added_tokens"]}
    w.add_bos_token_id(content_to_id["<|begin_of_text|>"])
    w.add_eos_token_id(content_to_id["<|end_of_text|>"])
    w.add_add_bos_token(True)
    if tok_cfg.get("chat_template"):
        w.add_chat_template(tok_cfg["chat_template"])


def rope_freqs(shape: dict) -> np.ndarray | None:
    """llama.cpp's rope_freqs.weight for Llama 3.1-style scaling (as convert_hf_to_gguf.py)."""
    rs = shape["rope_scaling"]
    if rs is None:
        return None
    dim = shape["hidden"] // shape["heads"]
    freqs = 1.0 / (shape["rope_theta"] ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
    old = rs["original_max_position_embeddings"]
    low_wavelen = old / rs["low_freq_factor"]
    high_wavelen = old / rs["high_freq_factor"]
    out = []
    for f in freqs:
        wavelen = 2 * math.pi / f
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(rs["factor"])
        else:
            smooth = (old / wavelen - rs["low_freq_factor"]) / (rs["high_freq_factor"] - rs["low_freq_factor"])
            out.append(1.0 / ((1 - smooth) / rs["factor"] + smooth))
    return np.asarray(out, dtype=np.float32)


def tensor_table(shape: dict) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, numpy shape [n_out, n_in], kind) in llama.cpp's converter order."""
    h, f, v = shape["hidden"], shape["ffn"], shape["vocab"]
    head_dim = h // shape["heads"]
    kv = shape["kv_heads"] * head_dim
    t: list[tuple[str, tuple[int, ...], str]] = []
    if shape["rope_scaling"] is not None:
        t.append(("rope_freqs.weight", (head_dim // 2,), "rope"))
    t.append(("token_embd.weight", (v, h), "matrix"))
    for i in range(shape["layers"]):
        p = f"blk.{i}."
        t += [(p + "attn_norm.weight", (h,), "norm"),
              (p + "attn_q.weight", (h, h), "matrix"),
              (p + "attn_k.weight", (kv, h), "matrix"),
              (p + "attn_v.weight", (kv, h), "matrix"),
              (p + "attn_output.weight", (h, h), "matrix"),
              (p + "ffn_norm.weight", (h,), "norm"),
              (p + "ffn_gate.weight", (f, h), "matrix"),
              (p + "ffn_up.weight", (f, h), "matrix"),
              (p + "ffn_down.weight", (h, f), "matrix")]
    t.append(("output_norm.weight", (h,), "norm"))
    if not shape["tied"]:
        t.append(("output.weight", (v, h), "matrix"))
    return t


def random_f16(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    # float32 draws (half the time of float64), scaled in place, then rounded to F16.
    x = rng.standard_normal(shape, dtype=np.float32)
    x *= WEIGHT_STD
    return x.astype(np.float16)


def write_f16(shape_name: str, out: Path, tokenizer_archive: Path, seed: int) -> None:
    import gguf

    shape = SHAPES[shape_name]
    tok, tok_cfg = load_tokenizer(tokenizer_archive)
    tmp = out.with_suffix(".gguf.partial")
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name(shape["name"])
    w.add_file_type(FTYPES["f16"])
    w.add_context_length(shape["ctx"])
    w.add_embedding_length(shape["hidden"])
    w.add_block_count(shape["layers"])
    w.add_feed_forward_length(shape["ffn"])
    w.add_head_count(shape["heads"])
    w.add_head_count_kv(shape["kv_heads"])
    w.add_rope_dimension_count(shape["hidden"] // shape["heads"])
    w.add_rope_freq_base(shape["rope_theta"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(shape["vocab"])
    add_tokenizer(w, tok, tok_cfg, shape["vocab"])

    table = tensor_table(shape)
    for name, shp, kind in table:
        dtype = np.float16 if kind == "matrix" else np.float32
        w.add_tensor_info(name, shp, np.dtype(dtype), int(np.prod(shp)) * np.dtype(dtype).itemsize)
    w.write_header_to_file(tmp)
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(seed)
    freqs = rope_freqs(shape)
    for name, shp, kind in table:
        if kind == "matrix":
            data = random_f16(rng, shp)
        elif kind == "rope":
            data = freqs
        else:
            data = np.ones(shp, dtype=np.float32)
        w.write_tensor_data(data)
        del data
    w.close()
    tmp.rename(out)


def quantize(src: Path, dst: Path, ftype_name: str, threads: int) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = threads
    params.ftype = FTYPES[ftype_name]
    tmp = dst.with_suffix(".gguf.partial")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"llama_model_quantize({src} -> {ftype_name}) failed: {rc}")
    tmp.rename(dst)


def parse_name(name: str) -> tuple[str, str]:
    shape, _, ftype = name.partition("-")
    if shape not in SHAPES or ftype not in FTYPES:
        raise SystemExit(f"unknown model '{name}': want SHAPE-TYPE with SHAPE in {sorted(SHAPES)} "
                         f"and TYPE in {sorted(FTYPES)}")
    return shape, ftype


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, default=Path("/work/models-bench"))
    ap.add_argument("--models", default="llama1b-f16,llama1b-q8_0,llama1b-q6_k,llama1b-q4_0,llama1b-q4_k_m,llama8b-q4_k_m",
                    help="comma-separated SHAPE-TYPE names")
    ap.add_argument("--tokenizer-archive", type=Path, default=DEFAULT_TOKENIZER_ARCHIVE,
                    help="tar.xz holding llama3/tokenizer.json and tokenizer_config.json")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="quantizer threads")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    wanted = [parse_name(n.strip()) for n in args.models.split(",") if n.strip()]
    timings: dict[str, float] = {}
    for shape_name in dict.fromkeys(s for s, _ in wanted):  # in order, once each
        types = [t for s, t in wanted if s == shape_name]
        missing = [t for t in types if not model_path(args.out_dir, f"{shape_name}-{t}").exists()]
        if not missing:
            continue
        f16 = model_path(args.out_dir, f"{shape_name}-f16")
        keep_f16 = "f16" in types
        made_f16 = False
        if not f16.exists():
            t0 = time.monotonic()
            print(f"[{shape_name}] writing random F16 weights to {f16}", file=sys.stderr, flush=True)
            write_f16(shape_name, f16, args.tokenizer_archive, args.seed)
            timings[f"{shape_name}-f16"] = time.monotonic() - t0
            made_f16 = True
        try:
            for t in missing:
                if t == "f16":
                    continue
                dst = model_path(args.out_dir, f"{shape_name}-{t}")
                t0 = time.monotonic()
                print(f"[{shape_name}] quantizing to {t.upper()} -> {dst}", file=sys.stderr, flush=True)
                quantize(f16, dst, t, args.threads)
                timings[f"{shape_name}-{t}"] = time.monotonic() - t0
        finally:
            # The 8B F16 intermediate (16 GB) is only a stepping stone unless it was asked for.
            if made_f16 and not keep_f16:
                f16.unlink(missing_ok=True)
    for name, s in timings.items():
        size = model_path(args.out_dir, name)
        size_txt = f"{size.stat().st_size / 1e9:.2f} GB" if size.exists() else "(intermediate, deleted)"
        print(f"{name}: {s:.1f} s, {size_txt}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
