// Primitives for hosts that want them without a model: conversion between f32 and the GGUF
// quantized formats (quantized matmul and attention on tensor views will join them here).
// Stateless and safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ollm/export.h"
#include "ollm/types.hpp"

namespace ollm {

// blocks: the raw bytes of whole blocks of `type` (a GGUF tensor row, any alignment) ·
// out: one f32 per element, out.size() == elements in blocks. Bit-exact with the gguf Python
// package's dequantize. Throws Error: invalid_argument when the sizes disagree (naming both),
// unsupported for a type without a dequantizer.
OLLM_API void dequantize(DType type, std::span<const uint8_t> blocks, std::span<float> out);

// values: a whole number of blocks of `type` · returns the block bytes. Q4_0..Q8_0, F16 and BF16
// match gguf.quants byte for byte; K-quants, Q8_K and IQ4 follow ggml's reference quantizers.
// A block containing NaN or infinity becomes a block that dequantizes to NaN. Throws Error:
// invalid_argument for a partial block, unsupported for a type without a quantizer.
OLLM_API std::vector<uint8_t> quantize(DType type, std::span<const float> values);

// --- Transformer ops: attention, RMSNorm, rotary position embeddings (f32 activations) ---------
// n_threads = 0 uses the library's shared pool (every hardware thread). Shapes are validated and
// an Error(invalid_argument) names the values that disagree.

// The gated MLP's activation: silu(x) = x sigmoid(x); gelu_tanh: the tanh approximation;
// gelu_erf: the exact x Phi(x). Part of a model's description, on every device.
enum class Activation { silu, gelu_tanh, gelu_erf };

// Rotary embeddings. normal: dims (2i, 2i+1) form pair i (GGUF llama after the converter's
// permutation); neox: dims (i, i + rot_dims/2) (Hugging Face rotate_half).
enum class RopeLayout { normal, neox };
enum class RopeScalingType { none, linear, llama3, yarn };  // (ollm::RopeScaling in model_spec.hpp is the file's description)
struct RopeParams {
  int head_dim = 0;
  int rot_dims = 0;  // rotated leading dims of each head (partial rotary), even, <= head_dim
  float theta_base = 10000.0f;
  RopeLayout layout = RopeLayout::neox;
  RopeScalingType scaling = RopeScalingType::none;
  float factor = 1;  // linear, llama3, yarn
  // llama3: low_freq_factor, high_freq_factor, original_max_positions.
  // yarn: beta_fast, beta_slow, original_max_positions, attn_factor = the config's
  //   `attention_factor`; 0 derives it as transformers does (0.1 ln(factor) + 1, or the
  //   mscale / mscale_all_dim ratio when both are set). truncate = the config's `truncate`.
  float low_freq_factor = 1, high_freq_factor = 4, beta_fast = 32, beta_slow = 1, attn_factor = 0;
  int64_t original_max_positions = 0;
  float mscale = 0, mscale_all_dim = 0;  // yarn (DeepSeek): 0 = absent
  bool truncate = true;                  // yarn: round the correction range outwards
};

// x: [n_tok, n_heads, head_dim] f32, rotated in place · pos: [n_tok] positions. Angles are
// f32(pos) * inv_freq in f32 (as transformers computes them); cos/sin are then exact.
OLLM_API void rope(const RopeParams& p, std::span<float> x, std::span<const int32_t> pos, int n_heads);

// x, y: [rows, n] f32 (y may be x) · weight: [n] f32, or empty for none.
// y = x / sqrt(mean(x^2) + eps) * weight, in f32. (Gemma's (1 + w): pass 1 + w as the weight.)
OLLM_API void rms_norm(std::span<const float> x, std::span<const float> weight, std::span<float> y, int64_t n,
                       float eps, int n_threads = 0);

// Scaled dot-product attention, flash-style (online softmax, no score matrix in memory).
struct AttentionParams {
  int n_heads = 0, n_kv_heads = 0, head_dim = 0, head_dim_v = 0;  // n_heads % n_kv_heads == 0
  float scale = 0;              // usually 1/sqrt(head_dim)
  float softcap = 0;            // 0 = off; else scores = softcap * tanh(scores / softcap) (Gemma 2)
  bool causal = true;           // key j is visible to a query at position p iff j <= p
  int64_t window = 0;           // 0 = none; else also p - j < window (sliding window)
  const float* sinks = nullptr; // [n_heads] sink logits (gpt-oss): in the softmax denominator only
};

// q: [n_q, n_heads, head_dim] f32 · q_pos: [n_q] absolute positions (key j has position j) ·
// k: [n_kv, n_kv_heads, head_dim] of kv_type · v: [n_kv, n_kv_heads, head_dim_v] of kv_type
// (F32, F16, BF16, or Q8_0 with head dims that are multiples of 32; raw bytes, any alignment) ·
// out: [n_q, n_heads, head_dim_v] f32.
// A query that sees no key (and has no sink) gets a zero row. Query head h reads KV head
// h / (n_heads / n_kv_heads).
OLLM_API void attention(const AttentionParams& p, std::span<const float> q, std::span<const int32_t> q_pos,
                        DType kv_type, std::span<const uint8_t> k, std::span<const uint8_t> v, std::span<float> out,
                        int n_threads = 0);

// --- Quantized matmul (the decode path; many activation rows go to the prefill GEMM) -----------

// w_bytes: n rows of k elements of w_type, rows contiguous exactly as in a GGUF tensor (any
// alignment) · x: [m, k] f32 row-major · y: [m, n] f32. y = x · wᵀ. Weight types: F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS; quantized types take
// the activations quantized to 8 bits per block (about 0.5 % relative error on a dot product).
// n_threads = 0 uses the library's shared pool. Throws Error: unsupported for another weight type,
// invalid_argument naming the values when k is not a whole number of blocks or a span's size
// disagrees with n, k and m.
OLLM_API void matmul(DType w_type, std::span<const uint8_t> w_bytes, int64_t n, int64_t k, std::span<const float> x,
                     int64_t m, std::span<float> y, int n_threads = 0);

}  // namespace ollm
