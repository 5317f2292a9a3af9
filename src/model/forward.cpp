// One transformer step over a mixed batch, as a sequence of backend ops. Matrices run over all
// rows of the batch at once (weights stream once per step, whatever the number of sequences);
// attention runs per sequence against that sequence's KV blocks (the backend's attention op reads
// the step's block table).
#include "model/forward.hpp"

#include <algorithm>
#include <array>

#include "util/fail.hpp"

namespace ollm::model {

void* ScratchBuffer::bytes(backend::Backend& backend, size_t count) {
  if (!buffer_ || buffer_->size() < count) {
    buffer_.reset();  // the old one goes first: scratch is never held twice
    buffer_ = backend.allocate(std::max<size_t>(count, 64));
  }
  return buffer_->data();
}

DecoderRunner::DecoderRunner(const DecoderConfig& config, const DecoderWeights& weights, backend::Backend& backend)
    : config_(config), weights_(weights), backend_(backend) {
  rope_ = backend.make_rope(config.rope, weights.rope_freqs);
  if (config.has_local_rope) rope_local_ = backend.make_rope(config.rope_local, {});
}

void DecoderRunner::build_step(const Batch& batch, int64_t block_tokens) {
  const auto& c = config_;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  for (int32_t id : batch.tokens)
    if (id < 0 || id >= c.vocab)
      fail(ErrorCode::invalid_argument, "[model] token id {} is outside the vocabulary (0..{})", id, c.vocab - 1);
  // Each sequence's rows must lie inside the batch: one with no row would gather row
  // first_row - 1 for its logits (another sequence's hidden state, or memory before the buffer).
  for (const auto& s : batch.sequences)
    if (s.kv == nullptr || s.n_rows <= 0 || s.first_row < 0 || s.first_row > n - s.n_rows)
      fail(ErrorCode::internal, "[model] a batch sequence's rows [{}, {}+{}) are not inside the batch's {} rows",
           s.first_row, s.first_row, s.n_rows, n);

  backend::StepIndices& ix = indices_;
  ix.tokens = batch.tokens;
  ix.positions.resize(static_cast<size_t>(n));
  ix.kv_slots.resize(static_cast<size_t>(n));
  ix.block_table.clear();
  ix.logit_rows.clear();
  ix.sequences.clear();
  for (const auto& s : batch.sequences) {
    const int64_t n_keys = s.kv->n_tokens + s.n_rows;
    const int64_t n_blocks = (n_keys + block_tokens - 1) / block_tokens;
    if (n_blocks > static_cast<int64_t>(s.kv->blocks.size()))
      fail(ErrorCode::internal, "[model] a sequence of {} tokens has {} KV blocks of {} tokens reserved", n_keys,
           s.kv->blocks.size(), block_tokens);
    ix.sequences.push_back({s.first_row, s.n_rows, s.kv->n_tokens, static_cast<int64_t>(ix.block_table.size())});
    ix.block_table.insert(ix.block_table.end(), s.kv->blocks.begin(), s.kv->blocks.begin() + n_blocks);
    for (int64_t r = 0; r < s.n_rows; ++r) {
      const int64_t pos = s.kv->n_tokens + r;
      const int32_t block = s.kv->blocks[static_cast<size_t>(pos / block_tokens)];
      ix.positions[static_cast<size_t>(s.first_row + r)] = static_cast<int32_t>(pos);
      ix.kv_slots[static_cast<size_t>(s.first_row + r)] = static_cast<int32_t>(block * block_tokens + pos % block_tokens);
    }
    // Only the rows that need logits go through the final norm and the (large) output matrix.
    if (s.logits_all) {
      for (int64_t r = 0; r < s.n_rows; ++r) ix.logit_rows.push_back(static_cast<int32_t>(s.first_row + r));
    } else if (s.logits_last) {
      ix.logit_rows.push_back(static_cast<int32_t>(s.first_row + s.n_rows - 1));
    }
  }
}

int64_t DecoderRunner::forward(const Batch& batch, backend::KvStorage& kv, std::vector<float>& logits) {
  const auto& c = config_;
  auto& be = backend_;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  if (n == 0) return 0;
  build_step(batch, kv.layout().block_tokens);
  const backend::DeviceStep& step = be.upload_step(indices_);

  float* const x = x_.floats(be, n * c.hidden);
  float* const h = h_.floats(be, n * c.hidden);
  float* const o = o_.floats(be, n * c.hidden);
  be.embedding(weights_.embedding, step.tokens, n, x);
  if (c.embedding_scale != 0.0f) be.scale(x, c.embedding_scale, n * c.hidden);

  for (int64_t layer = 0; layer < c.n_layers; ++layer) {
    const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
    be.rms_norm(x, lw.attn_norm, h, n, c.hidden, c.norm_eps);
    attention_block(layer, step, kv);  // h → o [n, hidden]
    if (c.post_attention_norm) be.rms_norm(o, lw.post_attn_norm, o, n, c.hidden, c.norm_eps);
    be.add(x, o, x, n * c.hidden);

    be.rms_norm(x, lw.ffn_norm, h, n, c.hidden, c.norm_eps);
    if (c.n_experts > 0) {
      moe_block(layer, n);  // h → o
    } else {
      mlp_block(layer, n);  // h → o
    }
    if (c.post_ffn_norm) be.rms_norm(o, lw.post_ffn_norm, o, n, c.hidden, c.norm_eps);
    be.add(x, o, x, n * c.hidden);
  }
  for (const auto& s : batch.sequences) s.kv->n_tokens += s.n_rows;

  const int64_t n_out = step.n_logit_rows;
  if (n_out == 0) return 0;
  float* const logit_in = logit_in_.floats(be, n_out * c.hidden);
  be.gather_rows(x, c.hidden, step.logit_rows, n_out, logit_in);
  be.rms_norm(logit_in, weights_.output_norm, logit_in, n_out, c.hidden, c.norm_eps);
  if (batch.hidden_states) {
    logits.resize(static_cast<size_t>(n_out * c.hidden));
    be.download(logit_in, logits.data(), logits.size() * sizeof(float));
    return n_out;
  }
  float* const out = logits_.floats(be, n_out * c.vocab);
  be.matmul(weights_.output, logit_in, n_out, out);
  if (c.final_softcap > 0.0f) be.softcap(out, c.final_softcap, n_out * c.vocab);
  logits.resize(static_cast<size_t>(n_out * c.vocab));
  be.download(out, logits.data(), logits.size() * sizeof(float));
  return n_out;
}

void DecoderRunner::attention_block(int64_t layer, const backend::DeviceStep& step, backend::KvStorage& kv) {
  const auto& c = config_;
  auto& be = backend_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
  const int64_t n = step.n_rows;
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t k_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  const int64_t v_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim_v;
  const int64_t o_in = static_cast<int64_t>(c.n_heads) * c.head_dim_v;
  const int64_t qkv_all = lw.fused_qkv ? n * (q_dim + k_dim + v_dim) : 0;
  float* const h = h_.floats(be, n * c.hidden);
  // q, k, v, the attention output and (fused weights) the [q | k | v] rows: all dead once this
  // block returns, so they share the stage buffer with the MLP's intermediates.
  float* const q = stage_.floats(be, n * (q_dim + k_dim + v_dim + o_in) + qkv_all);
  float* const k = q + n * q_dim;
  float* const v = k + n * k_dim;
  float* const attn = v + n * v_dim;
  float* const qkv = attn + n * o_in;
  if (lw.fused_qkv) {
    // [q | k | v] per row, split into contiguous q, k, v.
    const int64_t all = q_dim + k_dim + v_dim;
    be.matmul(lw.qkv, h, n, qkv);
    be.copy_columns(qkv, all, 0, q_dim, q, q_dim, n);
    be.copy_columns(qkv, all, q_dim, k_dim, k, k_dim, n);
    be.copy_columns(qkv, all, q_dim + k_dim, v_dim, v, v_dim, n);
  } else {
    const std::array<const Weight*, 3> ws{&lw.q, &lw.k, &lw.v};
    const std::array<float*, 3> ys{q, k, v};
    be.matmul_shared_input(ws, ys, h, n);
    if (!lw.q_bias.empty()) be.add_bias(q, lw.q_bias, n);
    if (!lw.k_bias.empty()) be.add_bias(k, lw.k_bias, n);
    if (!lw.v_bias.empty()) be.add_bias(v, lw.v_bias, n);
  }
  if (c.qk_norm) {
    be.rms_norm(q, lw.q_norm, q, n * c.n_heads, c.head_dim, c.norm_eps);
    be.rms_norm(k, lw.k_norm, k, n * c.n_kv_heads, c.head_dim, c.norm_eps);
  }
  const bool local = c.layer_is_local[static_cast<size_t>(layer)];
  const backend::RopePlan& rope = local && c.has_local_rope ? *rope_local_ : *rope_;
  be.rope(rope, q, n, c.n_heads, step.positions);
  be.rope(rope, k, n, c.n_kv_heads, step.positions);

  be.kv_append(kv, layer, k, v, n, step.kv_slots);

  AttentionParams ap;
  ap.n_heads = c.n_heads;
  ap.n_kv_heads = c.n_kv_heads;
  ap.head_dim = c.head_dim;
  ap.head_dim_v = c.head_dim_v;
  ap.scale = c.attention_scale;
  ap.softcap = c.attn_softcap;
  ap.causal = true;
  ap.window = local ? c.sliding_window : 0;
  be.attention(kv, layer, ap, step, q, attn);
  float* const o = o_.floats(be, n * c.hidden);
  be.matmul(lw.o, attn, n, o);
  if (!lw.o_bias.empty()) be.add_bias(o, lw.o_bias, n);
}

void DecoderRunner::mlp_block(int64_t layer, int64_t n) {
  const auto& c = config_;
  auto& be = backend_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
  float* const h = h_.floats(be, n * c.hidden);
  float* const o = o_.floats(be, n * c.hidden);
  // Rows go through in chunks of mlp_chunk_rows: the [rows, ffn] intermediates are the largest
  // scratch of a prefill step (2 x 512 x 8192 floats = 32 MiB for a Llama-3.2-1B chunk), and
  // 128 rows keep the GEMM as efficient while costing a quarter of that. Each row's result is
  // the same whatever chunk it is in (the kernels treat rows independently).
  const int64_t chunk = std::min(n, mlp_chunk_rows);
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int64_t rows = std::min(chunk, n - r0);
    const float* in = h + r0 * c.hidden;
    const float* act = nullptr;
    if (lw.fused_gate_up) {
      float* const up = stage_.floats(be, chunk * 3 * c.ffn);  // [rows, gate | up], then the activation
      float* const out = up + chunk * 2 * c.ffn;
      be.matmul(lw.up, in, rows, up);
      be.gated_activation(c.activation, up, up + c.ffn, out, rows, c.ffn, 2 * c.ffn, 2 * c.ffn);
      act = out;
    } else {
      // The activation overwrites gate in place: one [rows, ffn] buffer less.
      float* const gate = stage_.floats(be, chunk * 2 * c.ffn);
      float* const up = gate + chunk * c.ffn;
      const std::array<const Weight*, 2> ws{&lw.gate, &lw.up};
      const std::array<float*, 2> ys{gate, up};
      be.matmul_shared_input(ws, ys, in, rows);
      be.gated_activation(c.activation, gate, up, gate, rows, c.ffn, c.ffn, c.ffn);
      act = gate;
    }
    be.matmul(lw.down, act, rows, o + r0 * c.hidden);
  }
}

void DecoderRunner::moe_block(int64_t layer, int64_t n) {
  const auto& c = config_;
  auto& be = backend_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(layer)];
  const int64_t E = c.n_experts, K = c.n_experts_used, F = c.expert_ffn;
  float* const h = h_.floats(be, n * c.hidden);
  float* const router = router_.floats(be, n * E);
  be.matmul(lw.router, h, n, router);
  // Router: softmax over all experts, keep the top K, optionally renormalise (Mixtral's softmax
  // over the top-K logits is the same thing).
  int32_t* const ids = sel_ids_.ints(be, n * K);
  float* const weights = sel_w_.floats(be, n * K);
  be.router_top_k(router, n, E, K, c.normalize_expert_weights, ids, weights);
  float* const gate = moe_gate_.floats(be, n * K * F);
  float* const up = moe_up_.floats(be, n * K * F);
  float* const act = moe_act_.floats(be, n * K * F);
  be.matmul_experts(lw.gate_exps, E, h, n, ids, K, gate);
  be.matmul_experts(lw.up_exps, E, h, n, ids, K, up);
  be.gated_activation(c.activation, gate, up, act, n * K, F, F, F);
  // Down: every (token, expert) pair has its own input row, so run it as n*K rows of one expert each.
  float* const out = moe_out_.floats(be, n * K * c.hidden);
  be.matmul_experts(lw.down_exps, E, act, n * K, ids, 1, out);
  be.expert_combine(out, weights, n, K, c.hidden, o_.floats(be, n * c.hidden));
}

}  // namespace ollm::model
