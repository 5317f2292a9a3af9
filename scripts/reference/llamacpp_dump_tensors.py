#!/usr/bin/env python3
# Dumps llama.cpp's intermediate tensors (every f32 / f16 node of its compute graph, by ggml name:
# attn_norm-0, Qcur-0, kq-0, kq_soft_max-0, kqv_out-0, ffn_geglu-0, l_out-0, ...) for one token
# sequence, through llama.cpp's eval callback (cb_eval) via llama-cpp-python. A diagnostic for
# finding the first layer where another engine's values leave llama.cpp's (docs/MODELS.md, "Why
# the llama.cpp comparison is not per-step exact"); the test suite does not use it.
#
#   /tmp/lcp/bin/python scripts/reference/llamacpp_dump_tensors.py MODEL.gguf 2,818 out.npz
#
# out.npz maps each tensor name to its values as float32 in ggml's dimension order reversed
# (numpy order: [ne3, ne2, ne1, ne0]); repeated names get "#1", "#2" suffixes in graph order.
# The struct layout below is ggml_tensor of the llama.cpp vendored by llama-cpp-python 0.3.36
# (ggml/include/ggml.h); other versions may differ.
import ctypes
import sys

import numpy as np
import numpy.lib.stride_tricks as stride_tricks

import llama_cpp
from llama_cpp import Llama


class GgmlTensor(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("buffer", ctypes.c_void_p), ("ne", ctypes.c_int64 * 4),
                ("nb", ctypes.c_size_t * 4), ("op", ctypes.c_int), ("op_params", ctypes.c_int32 * 16),
                ("flags", ctypes.c_int32), ("src", ctypes.c_void_p * 10), ("view_src", ctypes.c_void_p),
                ("view_offs", ctypes.c_size_t), ("data", ctypes.c_void_p), ("name", ctypes.c_char * 64),
                ("extra", ctypes.c_void_p), ("padding", ctypes.c_char * 8)]


GGML_TYPE_F32, GGML_TYPE_F16 = 0, 1
EVAL_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_bool, ctypes.c_void_p)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: llamacpp_dump_tensors.py MODEL.gguf ID,ID,... OUT.npz")
    model_path, ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
    dump = {}

    def on_tensor(address, ask, _user):
        if ask:  # "do you want this tensor?": yes, all of them (CPU backend: data is host memory)
            return True
        t = GgmlTensor.from_address(address)
        if t.type not in (GGML_TYPE_F32, GGML_TYPE_F16):
            return True
        ne, nb = list(t.ne), list(t.nb)
        raw = (ctypes.c_char * (nb[3] * ne[3])).from_address(t.data)
        flat = np.frombuffer(raw, dtype=np.float32 if t.type == GGML_TYPE_F32 else np.float16)
        values = stride_tricks.as_strided(flat, shape=ne[::-1], strides=nb[::-1]).astype(np.float32)
        name = key = t.name.decode()
        n = 0
        while key in dump:
            n += 1
            key = f"{name}#{n}"
        dump[key] = values
        return True

    callback = EVAL_CALLBACK(on_tensor)  # kept alive until the end of main
    llm = Llama(model_path=model_path, n_ctx=512, n_threads=1, verbose=False)
    params = llm.context_params
    params.cb_eval = callback
    params.cb_eval_user_data = None
    ctx = llama_cpp.llama_init_from_model(llm.model, params)
    batch = llama_cpp.llama_batch_get_one((llama_cpp.llama_token * len(ids))(*ids), len(ids))
    if llama_cpp.llama_decode(ctx, batch) != 0:
        sys.exit("llama_decode failed")
    np.savez(sys.argv[3], **{k.replace("/", "_"): v for k, v in dump.items()})
    print(f"{len(dump)} tensors written to {sys.argv[3]}")
    llama_cpp.llama_free(ctx)


if __name__ == "__main__":
    main()
