// Row and elementwise transformer ops on f32 activations (RMSNorm, LayerNorm, RoPE, activations,
// softmax, residual add, scaling, soft-capping, embedding lookup, top-k) for the CPU backend.
// Single-threaded kernels routed to the selected ISA variant; callers validate shapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ollm/ops.hpp"
#include "ollm/types.hpp"

namespace ollm::cpu {

// x, y: [rows, n] f32 (row stride n; y may alias x) · w: [n] f32 (nullptr = no weight).
// y = x * rsqrt(mean(x^2) + eps) * w, all in f32. Gemma's (1 + w) is folded into w by the model
// layer when it loads the weights (the same f32 values, no per-call cost).
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);
// x, y: [rows, n] f32 (y may alias x) · w, b: [n] f32 or nullptr. y = (x - mean) / sqrt(var + eps) * w + b.
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps);

using RopeLayout = ollm::RopeLayout;
using RopeScaling = ollm::RopeScalingType;
using RopeParams = ollm::RopeParams;

// Precomputed per model: inv_freq[rot_dims / 2] after scaling, and the factor cos and sin are
// multiplied by (yarn's attention factor; 1 otherwise).
struct RopeTable {
  std::vector<float> inv_freq;
  float mscale = 1;
};
// The inverse frequencies as transformers' _compute_*_parameters define them (computed in f64,
// rounded once). Preconditions (callers validate: backend::validate_rope_params): rot_dims even
// and in (0, head_dim], a positive base and factor, original_max_positions > 0 for llama3/yarn.
RopeTable make_rope_table(const RopeParams& p);
// transformers' yarn attention factor when the config gives none: get_mscale(factor), or
// get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim) when both are non-zero.
float yarn_attention_factor(float factor, float mscale, float mscale_all_dim);

// x: [n_tok, n_heads, head_dim] f32, rotated in place · pos: [n_tok] int32 positions.
// Angle = f32(pos) * inv_freq[i] rounded to f32 (transformers' f32 matmul), cos/sin of it exact,
// times mscale. Dims >= rot_dims are left as they are.
void rope(const RopeParams& p, const RopeTable& t, float* x, int64_t n_tok, int n_heads, const int32_t* pos);

using Activation = ollm::Activation;  // silu, gelu_tanh, gelu_erf (ollm/ops.hpp)
// gate: [rows, n] (row stride gate_stride) · up: [rows, n] (row stride up_stride) · out: [rows, n]
// (row stride n). out = act(gate) * up. out may alias gate or up when the strides are n.
void gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                      int64_t gate_stride, int64_t up_stride);
// x, y: [count] f32 (y may alias x). y = act(x).
void activation(Activation act, const float* x, float* y, int64_t count);
// x: [rows, n] f32, in place: each row becomes softmax(row), computed stably (max subtracted).
// A row of all -inf becomes all zeros; a NaN anywhere in a row makes the whole row NaN.
void softmax(float* x, int64_t rows, int64_t n);
// y = a + b over [count] (y may alias a or b).
void add(const float* a, const float* b, float* y, int64_t count);
// x *= s over [count].
void scale(float* x, float s, int64_t count);
// x = cap * tanh(x / cap) over [count] (Gemma 2 soft-capping); cap > 0.
void softcap(float* x, float cap, int64_t count);

// table: [vocab, n] of `type` (row stride row_stride bytes; F32, F16, BF16 or any quantized type
// with a dequantizer, n a whole number of its blocks) · ids: [n_tok] · out: [n_tok, n] f32.
// Preconditions (callers validate: backend::validate_embedding_table, validate_token_ids): a
// type with a dequantizer, n a whole number of its blocks, every id in [0, vocab).
void embedding_rows(DType type, const void* table, size_t row_stride, int64_t vocab, int64_t n, const int32_t* ids,
                    int64_t n_tok, float* out);

// logits: [n] · out_ids, out_vals: [k], 0 <= k <= n (callers validate). The k largest values,
// sorted descending, ties broken by the lower id. NaN policy: a NaN logit is treated as -inf
// (ranked with the -inf values, reported as -inf), so it is never preferred to a real number.
void top_k(const float* logits, int64_t n, int64_t k, int32_t* out_ids, float* out_vals);

}  // namespace ollm::cpu
