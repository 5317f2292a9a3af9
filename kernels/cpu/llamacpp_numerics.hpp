// The rounding steps of llama.cpp's CPU backend (ggml-cpu), reproduced for Numerics::llamacpp:
// with them a forward pass lands on the same 8-bit activation codes as llama.cpp almost
// everywhere, so its logits track llama.cpp's to within float summation order instead of
// differing by the few percent that any two valid 8-bit activation roundings differ by on a
// small model. Each function names the ggml routine it follows. These are plain scalar loops:
// the mode is for migration checks and A/B comparisons, not for speed.
#pragma once

#include <cstdint>

#include "cpu/attention.hpp"
#include "cpu/ops.hpp"
#include "cpu/thread_pool.hpp"

namespace ollm::cpu::llamacpp {

// ggml_compute_forward_rms_norm_f32 (+ the following ggml_mul): the sum of squares in double,
// mean and scale in float, y = x * scale * w. x, y: [rows, n] (y may alias x) · w: [n].
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);

// ggml_rope_cache_init + rope_yarn, NeoX or normal layout: per position theta starts at f32(pos)
// and is multiplied by powf(base, -2/rot_dims) once per pair (in float, so later pairs carry the
// accumulated rounding), cos/sin in float. x: [n_tok, n_heads, head_dim], in place ·
// pos: [n_tok]. Supports RopeScaling::none and ::linear (ggml's freq_scale); whether the
// other scalings are supported: rope_supported(). Precondition (callers validate; the CPU
// backend's make_rope picks this rope only then): rope_supported(p).
bool rope_supported(const RopeParams& p) noexcept;
void rope(const RopeParams& p, float* x, int64_t n_tok, int n_heads, const int32_t* pos);

// x rounded to fp16 and back (ggml converts matmul inputs to the weight's vec_dot type; F16 for
// an F16 KV cache). x: [count], in place.
void round_to_f16(float* x, int64_t count);

// ggml_vec_geglu_f32 with GGML_GELU_FP16: gelu(gate) looked up in a table indexed by fp16(gate)
// and stored as fp16, 0 below -10, identity above 10; out = that * up. Shapes as
// cpu::gated_activation.
void gelu_tanh_gated(const float* gate, const float* up, float* out, int64_t rows, int64_t n, int64_t gate_stride,
                     int64_t up_stride);

// llama.cpp's attention without flash attention (llama-cpp-python's default): scores = K · q
// (q rounded to the cache type), times scale, soft-capped, masked; softmax with the exp sum in
// double; the probabilities rounded to the cache type, then · V. KV cache F16 or F32 only
// (attention_supported). Shapes and arguments as cpu::attention. Precondition (callers validate:
// the engine refuses other KV types through Device::supports): attention_supported(k.type), v.type == k.type.
bool attention_supported(DType kv_type) noexcept;
void attention(const AttentionParams& p, const float* q, const int32_t* q_pos, int64_t n_q, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool, int n_threads);

}  // namespace ollm::cpu::llamacpp
