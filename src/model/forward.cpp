// One transformer step over a mixed batch. Matrices run over all rows of the batch at once
// (weights stream once per step, whatever the number of sequences); attention runs per sequence
// against that sequence's KV blocks.
#include "model/forward.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <cmath>
#include <cstring>

#include "cpu/attention.hpp"
#include "cpu/llamacpp_numerics.hpp"
#include "cpu/matmul.hpp"
#include "cpu/ops.hpp"
#include "cpu/quant_blocks.hpp"
#include "cpu/quantize.hpp"
#include "util/fail.hpp"

namespace ollm::model {
namespace {

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

void add_bias(float* y, const std::vector<float>& bias, int64_t rows) {
  if (bias.empty()) return;
  const int64_t n = static_cast<int64_t>(bias.size());
  for (int64_t r = 0; r < rows; ++r) cpu::add(y + r * n, bias.data(), y + r * n, n);
}

// The weight descriptor as this runner's numerics have it multiply (a copy: the model's stays shared).
cpu::WeightMatrix with_numerics(const cpu::WeightMatrix& w, Numerics numerics) {
  cpu::WeightMatrix out = w;
  out.f16_act_scales = numerics == Numerics::llamacpp;
  out.exact_f32 = numerics == Numerics::exact;
  return out;
}

}  // namespace

DecoderRunner::DecoderRunner(const DecoderConfig& config, const DecoderWeights& weights, Numerics numerics)
    : config_(config), weights_(weights), numerics_(numerics) {
  cpu::RopeParams global = config.rope;
  if (!weights.rope_freqs.empty()) global.scaling = cpu::RopeScaling::none;  // the divisors are the scaling
  rope_table_ = cpu::make_rope_table(global);
  if (config.has_local_rope) rope_local_table_ = cpu::make_rope_table(config.rope_local);
  // theta_i = pos * base^(-2i/d) / rope_freqs[i], as llama.cpp's rope with freq_factors.
  for (size_t i = 0; i < weights.rope_freqs.size() && i < rope_table_.inv_freq.size(); ++i)
    rope_table_.inv_freq[i] /= weights.rope_freqs[i];
}

float* DecoderRunner::stage(int64_t count) {
  grow(stage_, count);
  return stage_.data();
}

void DecoderRunner::linear(const cpu::WeightMatrix& w, const float* x, int64_t rows, float* y, cpu::ThreadPool& pool,
                           int n_threads) {
  if (numerics_ == Numerics::llamacpp && (w.type == DType::f16 || w.type == DType::bf16)) {
    // ggml converts the activations to the weights' type (its vec_dot_type) before the product.
    grow(rounded_x_, rows * w.n_cols);
    for (int64_t i = 0; i < rows * w.n_cols; ++i)
      rounded_x_[static_cast<size_t>(i)] = w.type == DType::f16 ? cpu::fp16_to_f32(cpu::f32_to_fp16(x[i]))
                                                               : cpu::bf16_to_f32(cpu::f32_to_bf16(x[i]));
    x = rounded_x_.data();
  }
  cpu::matmul(with_numerics(w, numerics_), x, rows, w.n_cols, y, w.n_rows, pool, n_threads);
}

void DecoderRunner::linear_shared(std::initializer_list<const cpu::WeightMatrix*> ws,
                                  std::initializer_list<float*> ys, const float* x, int64_t rows, cpu::ThreadPool& pool,
                                  int n_threads) {
  std::array<cpu::WeightMatrix, 4> copies{};
  std::array<float*, 4> outs{};
  if (ws.size() != ys.size() || ws.size() > copies.size())
    fail(ErrorCode::internal, "[model] linear_shared takes up to {} matrices with one output each", copies.size());
  size_t count = 0;
  bool rounds_x = false;  // llama.cpp numerics round x per float weight type: one matrix at a time
  for (auto [w, y] = std::pair{ws.begin(), ys.begin()}; w != ws.end(); ++w, ++y, ++count) {
    copies[count] = with_numerics(**w, numerics_);
    outs[count] = *y;
    rounds_x |= numerics_ == Numerics::llamacpp && ((*w)->type == DType::f16 || (*w)->type == DType::bf16);
  }
  if (rounds_x) {
    for (size_t i = 0; i < count; ++i) linear(copies[i], x, rows, outs[i], pool, n_threads);
    return;
  }
  cpu::matmul_shared_input(copies.data(), outs.data(), count, x, rows, copies[0].n_cols, pool, n_threads);
}

void DecoderRunner::rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n) const {
  if (numerics_ == Numerics::llamacpp) {
    cpu::llamacpp::rms_norm(x, w, y, rows, n, config_.norm_eps);
  } else {
    cpu::rms_norm(x, w, y, rows, n, config_.norm_eps);
  }
}

void DecoderRunner::gated_activation(const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                                     int64_t gate_stride, int64_t up_stride) const {
  if (numerics_ == Numerics::llamacpp && config_.activation == cpu::Activation::gelu_tanh) {
    cpu::llamacpp::gelu_tanh_gated(gate, up, out, rows, n, gate_stride, up_stride);
  } else {
    cpu::gated_activation(config_.activation, gate, up, out, rows, n, gate_stride, up_stride);
  }
}

int64_t DecoderRunner::forward(const Batch& batch, runtime::KvCache& cache, std::vector<float>& logits,
                               cpu::ThreadPool& pool, int n_threads) {
  const auto& c = config_;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  if (n == 0) return 0;
  for (int32_t id : batch.tokens)
    if (id < 0 || id >= c.vocab)
      fail(ErrorCode::invalid_argument, "[model] token id {} is outside the vocabulary (0..{})", id, c.vocab - 1);
  // Each sequence's rows must lie inside the batch: one with no row would gather row
  // first_row - 1 for its logits (another sequence's hidden state, or memory before the buffer).
  for (const auto& s : batch.sequences)
    if (s.kv == nullptr || s.n_rows <= 0 || s.first_row < 0 || s.first_row > n - s.n_rows)
      fail(ErrorCode::internal, "[model] a batch sequence's rows [{}, {}+{}) are not inside the batch's {} rows",
           s.first_row, s.first_row, s.n_rows, n);

  positions_.resize(static_cast<size_t>(n));
  for (const auto& s : batch.sequences)
    for (int64_t r = 0; r < s.n_rows; ++r)
      positions_[static_cast<size_t>(s.first_row + r)] = static_cast<int32_t>(s.kv->n_tokens + r);

  grow(x_, n * c.hidden);
  grow(h_, n * c.hidden);
  cpu::embedding_rows(weights_.embedding_type, weights_.embedding, weights_.embedding_row_stride, c.vocab, c.hidden,
                      batch.tokens.data(), n, x_.data());
  if (c.embedding_scale != 0.0f) cpu::scale(x_.data(), c.embedding_scale, n * c.hidden);

  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
    rms_norm(x_.data(), lw.attn_norm.data(), h_.data(), n, c.hidden);
    attention_block(layer, batch, cache, pool, n_threads);  // h_ → o_ [n, hidden]
    if (c.post_attention_norm)
      rms_norm(o_.data(), lw.post_attn_norm.data(), o_.data(), n, c.hidden);
    cpu::add(x_.data(), o_.data(), x_.data(), n * c.hidden);

    rms_norm(x_.data(), lw.ffn_norm.data(), h_.data(), n, c.hidden);
    if (c.n_experts > 0) {
      moe_block(layer, n, pool, n_threads);  // h_ → o_
    } else {
      mlp_block(layer, n, pool, n_threads);  // h_ → o_
    }
    if (c.post_ffn_norm) rms_norm(o_.data(), lw.post_ffn_norm.data(), o_.data(), n, c.hidden);
    cpu::add(x_.data(), o_.data(), x_.data(), n * c.hidden);
  }
  for (const auto& s : batch.sequences) s.kv->n_tokens += s.n_rows;

  // Only the rows that need logits go through the final norm and the (large) output matrix.
  int64_t n_out = 0;
  for (const auto& s : batch.sequences) n_out += s.logits_all ? s.n_rows : (s.logits_last ? 1 : 0);
  if (n_out == 0) return 0;
  grow(logit_in_, n_out * c.hidden);
  int64_t row = 0;
  for (const auto& s : batch.sequences) {
    const int64_t from = s.logits_all ? s.first_row : s.first_row + s.n_rows - 1;
    const int64_t count = s.logits_all ? s.n_rows : (s.logits_last ? 1 : 0);
    std::memcpy(logit_in_.data() + row * c.hidden, x_.data() + from * c.hidden,
                static_cast<size_t>(count * c.hidden) * sizeof(float));
    row += count;
  }
  rms_norm(logit_in_.data(), weights_.output_norm.data(), logit_in_.data(), n_out, c.hidden);
  if (batch.hidden_states) {
    logits.assign(logit_in_.begin(), logit_in_.begin() + n_out * c.hidden);
    return n_out;
  }
  logits.resize(static_cast<size_t>(n_out * c.vocab));
  linear(weights_.output, logit_in_.data(), n_out, logits.data(), pool, n_threads);
  if (c.final_softcap > 0.0f) cpu::softcap(logits.data(), c.final_softcap, n_out * c.vocab);
  return n_out;
}

void DecoderRunner::attention_block(int64_t layer, const Batch& batch, runtime::KvCache& cache, cpu::ThreadPool& pool,
                                    int n_threads) {
  const auto& c = config_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t k_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  const int64_t v_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim_v;
  const int64_t o_in = static_cast<int64_t>(c.n_heads) * c.head_dim_v;
  const int64_t qkv_all = lw.fused_qkv ? n * (q_dim + k_dim + v_dim) : 0;
  // q, k, v, the attention output and (fused weights) the [q | k | v] rows: all dead once this
  // block returns, so they share the stage buffer with the MLP's intermediates.
  float* const q = stage(n * (q_dim + k_dim + v_dim + o_in) + qkv_all);
  float* const k = q + n * q_dim;
  float* const v = k + n * k_dim;
  float* const attn = v + n * v_dim;
  float* const qkv = attn + n * o_in;
  if (lw.fused_qkv) {
    // [q | k | v] per row, split into contiguous q, k, v.
    const int64_t all = q_dim + k_dim + v_dim;
    linear(lw.qkv, h_.data(), n, qkv, pool, n_threads);
    for (int64_t r = 0; r < n; ++r) {
      const float* src = qkv + r * all;
      std::memcpy(q + r * q_dim, src, static_cast<size_t>(q_dim) * sizeof(float));
      std::memcpy(k + r * k_dim, src + q_dim, static_cast<size_t>(k_dim) * sizeof(float));
      std::memcpy(v + r * v_dim, src + q_dim + k_dim, static_cast<size_t>(v_dim) * sizeof(float));
    }
  } else {
    linear_shared({&lw.q, &lw.k, &lw.v}, {q, k, v}, h_.data(), n, pool, n_threads);
    add_bias(q, lw.q_bias, n);
    add_bias(k, lw.k_bias, n);
    add_bias(v, lw.v_bias, n);
  }
  if (c.qk_norm) {
    rms_norm(q, lw.q_norm.data(), q, n * c.n_heads, c.head_dim);
    rms_norm(k, lw.k_norm.data(), k, n * c.n_kv_heads, c.head_dim);
  }
  const bool local = c.layer_is_local[static_cast<size_t>(layer)];
  const bool use_local_rope = local && c.has_local_rope;
  const cpu::RopeParams& rp = use_local_rope ? c.rope_local : c.rope;
  const cpu::RopeTable& rt = use_local_rope ? rope_local_table_ : rope_table_;
  if (numerics_ == Numerics::llamacpp && cpu::llamacpp::rope_supported(rp) && weights_.rope_freqs.empty()) {
    cpu::llamacpp::rope(rp, q, n, c.n_heads, positions_.data());
    cpu::llamacpp::rope(rp, k, n, c.n_kv_heads, positions_.data());
  } else {
    cpu::rope(rp, rt, q, n, c.n_heads, positions_.data());
    cpu::rope(rp, rt, k, n, c.n_kv_heads, positions_.data());
  }

  // Append K and V to each sequence's blocks in the cache's type.
  const auto& kl = cache.layout();
  const size_t k_bytes = kl.k_token_bytes(), v_bytes = kl.v_token_bytes();
  for (const auto& s : batch.sequences) {
    for (int64_t r = 0; r < s.n_rows; ++r) {
      const int64_t pos = s.kv->n_tokens + r;
      const int32_t block = s.kv->blocks[static_cast<size_t>(pos / kl.block_tokens)];
      const int64_t slot = pos % kl.block_tokens;
      const int64_t row = s.first_row + r;
      cpu::quantize_row(kl.type, k + row * k_dim, cache.k_block(layer, block) + slot * k_bytes, k_dim);
      cpu::quantize_row(kl.type, v + row * v_dim, cache.v_block(layer, block) + slot * v_bytes, v_dim);
    }
  }

  cpu::AttentionParams ap;
  ap.n_heads = c.n_heads;
  ap.n_kv_heads = c.n_kv_heads;
  ap.head_dim = c.head_dim;
  ap.head_dim_v = c.head_dim_v;
  ap.scale = c.attention_scale;
  ap.softcap = c.attn_softcap;
  ap.causal = true;
  ap.window = local ? c.sliding_window : 0;
  for (const auto& s : batch.sequences) {
    const int64_t n_keys = s.kv->n_tokens + s.n_rows;
    const size_t n_blocks = static_cast<size_t>((n_keys + kl.block_tokens - 1) / kl.block_tokens);
    k_blocks_.resize(n_blocks);
    v_blocks_.resize(n_blocks);
    for (size_t b = 0; b < n_blocks; ++b) {
      k_blocks_[b] = cache.k_block(layer, s.kv->blocks[b]);
      v_blocks_[b] = cache.v_block(layer, s.kv->blocks[b]);
    }
    const cpu::KvView kv_k{kl.type, k_blocks_.data(), kl.block_tokens, n_keys, k_bytes};
    const cpu::KvView kv_v{kl.type, v_blocks_.data(), kl.block_tokens, n_keys, v_bytes};
    if (numerics_ == Numerics::llamacpp) {
      cpu::llamacpp::attention(ap, q + s.first_row * q_dim, positions_.data() + s.first_row, s.n_rows, kv_k,
                               kv_v, attn + s.first_row * o_in, pool, n_threads);
    } else {
      cpu::attention(ap, q + s.first_row * q_dim, positions_.data() + s.first_row, s.n_rows, kv_k, kv_v,
                     attn + s.first_row * o_in, pool, n_threads);
    }
  }
  grow(o_, n * c.hidden);
  linear(lw.o, attn, n, o_.data(), pool, n_threads);
  add_bias(o_.data(), lw.o_bias, n);
}

void DecoderRunner::mlp_block(int64_t layer, int64_t n, cpu::ThreadPool& pool, int n_threads) {
  const auto& c = config_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
  grow(o_, n * c.hidden);
  // Rows go through in chunks of mlp_chunk_rows: the [rows, ffn] intermediates are the largest
  // scratch of a prefill step (2 x 512 x 8192 floats = 32 MiB for a Llama-3.2-1B chunk), and
  // 128 rows keep the GEMM as efficient while costing a quarter of that. Each row's result is
  // the same whatever chunk it is in (the kernels treat rows independently).
  const int64_t chunk = std::min(n, mlp_chunk_rows);
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int64_t rows = std::min(chunk, n - r0);
    const float* in = h_.data() + r0 * c.hidden;
    const float* act = nullptr;
    if (lw.fused_gate_up) {
      float* const up = stage(chunk * 3 * c.ffn);  // [rows, gate | up], then the activation
      float* const out = up + chunk * 2 * c.ffn;
      linear(lw.up, in, rows, up, pool, n_threads);
      gated_activation(up, up + c.ffn, out, rows, c.ffn, 2 * c.ffn, 2 * c.ffn);
      act = out;
    } else {
      // The activation overwrites gate in place: one [rows, ffn] buffer less.
      float* const gate = stage(chunk * 2 * c.ffn);
      float* const up = gate + chunk * c.ffn;
      linear_shared({&lw.gate, &lw.up}, {gate, up}, in, rows, pool, n_threads);
      gated_activation(gate, up, gate, rows, c.ffn, c.ffn, c.ffn);
      act = gate;
    }
    linear(lw.down, act, rows, o_.data() + r0 * c.hidden, pool, n_threads);
  }
}

void DecoderRunner::moe_block(int64_t layer, int64_t n, cpu::ThreadPool& pool, int n_threads) {
  const auto& c = config_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
  const int64_t E = c.n_experts, K = c.n_experts_used, F = c.expert_ffn;
  grow(router_, n * E);
  linear(lw.router, h_.data(), n, router_.data(), pool, n_threads);
  // Router: softmax over all experts, keep the top K, optionally renormalise (Mixtral's softmax
  // over the top-K logits is the same thing).
  cpu::softmax(router_.data(), n, E);
  sel_ids_.resize(static_cast<size_t>(n * K));
  grow(sel_w_, n * K);
  for (int64_t r = 0; r < n; ++r) {
    cpu::top_k(router_.data() + r * E, E, K, sel_ids_.data() + r * K, sel_w_.data() + r * K);
    if (c.normalize_expert_weights) {
      float sum = 0;
      for (int64_t j = 0; j < K; ++j) sum += sel_w_[static_cast<size_t>(r * K + j)];
      for (int64_t j = 0; j < K; ++j) sel_w_[static_cast<size_t>(r * K + j)] /= sum;
    }
  }
  grow(moe_gate_, n * K * F);
  grow(moe_up_, n * K * F);
  grow(moe_act_, n * K * F);
  cpu::matmul_experts(with_numerics(lw.gate_exps, numerics_), E, h_.data(), n, c.hidden, sel_ids_.data(), K, moe_gate_.data(), pool, n_threads);
  cpu::matmul_experts(with_numerics(lw.up_exps, numerics_), E, h_.data(), n, c.hidden, sel_ids_.data(), K, moe_up_.data(), pool, n_threads);
  gated_activation(moe_gate_.data(), moe_up_.data(), moe_act_.data(), n * K, F, F, F);
  // Down: every (token, expert) pair has its own input row, so run it as n*K rows of one expert each.
  grow(moe_out_, n * K * c.hidden);
  cpu::matmul_experts(with_numerics(lw.down_exps, numerics_), E, moe_act_.data(), n * K, F, sel_ids_.data(), 1, moe_out_.data(), pool, n_threads);
  grow(o_, n * c.hidden);
  for (int64_t r = 0; r < n; ++r) {
    float* out = o_.data() + r * c.hidden;
    std::fill(out, out + c.hidden, 0.0f);
    for (int64_t j = 0; j < K; ++j) {
      const float w = sel_w_[static_cast<size_t>(r * K + j)];
      const float* src = moe_out_.data() + (r * K + j) * c.hidden;
      for (int64_t i = 0; i < c.hidden; ++i) out[i] += w * src[i];
    }
  }
}

}  // namespace ollm::model
