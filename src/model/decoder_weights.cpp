// Binds tensors by their GGUF-scheme names ("blk.3.attn_q.weight") and checks their shapes.
// Messages speak the file's own language: a Hugging Face tensor by its safetensors name and
// shape ("lm_head.weight" [32, 16]), a GGUF tensor by its GGUF name and ggml dimension order.
#include "model/decoder_weights.hpp"

#include <algorithm>
#include <cstring>

#include "backend/validate.hpp"
#include "format/hf_tensor_names.hpp"
#include "ollm/ops.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm::model {
namespace {

class Binder {
 public:
  Binder(const ModelSpec& spec, DecoderWeights& out, const backend::Device& device, backend::WeightStore& store)
      : spec_(spec), out_(out), device_(device), store_(store) {}

  const TensorInfo* find(const std::string& name) const { return spec_.find_tensor(name); }

  const TensorInfo& require(const std::string& name) const {
    const TensorInfo* t = find(name);
    if (!t) {
      std::string shown = name;
      if (hf()) shown = hf_tensor_source_name(spec_.architecture, name).value_or(name);
      fail(ErrorCode::not_found, "[model] {}: tensor '{}' is missing (architecture {})", spec_.path.string(), shown,
           spec_.architecture);
    }
    return *t;
  }

  // `want` in ggml order, as TensorInfo::dims.
  void check_dims(const TensorInfo& t, std::initializer_list<int64_t> want) const {
    if (t.dims.size() != want.size() || !std::equal(want.begin(), want.end(), t.dims.begin())) {
      std::vector<int64_t> have(t.dims), expected(want);
      if (hf()) {  // safetensors shapes list the outermost dimension first
        std::reverse(have.begin(), have.end());
        std::reverse(expected.begin(), expected.end());
      }
      fail(ErrorCode::invalid_model_file, "[model] {}: tensor '{}' has shape [{}], expected [{}]", spec_.path.string(),
           shown(t), fmt::join(have, ", "), fmt::join(expected, ", "));
    }
  }

  // The tensor's name as its file spells it.
  std::string shown(const TensorInfo& t) const { return printable(hf() ? t.source_name : t.name); }
  bool hf() const { return spec_.format == ModelFormat::safetensors; }

  // A [n_out, n_in] matrix (ggml dims {n_in, n_out}), used in place.
  Weight matrix(const std::string& name, int64_t n_out, int64_t n_in) {
    const TensorInfo& t = require(name);
    check_dims(t, {n_in, n_out});
    return view(t, n_out, n_in);
  }

  Weight view(const TensorInfo& t, int64_t n_rows, int64_t n_cols) {
    require_matmul(t);
    const size_t row_bytes = dtype_row_bytes(t.type, n_cols);
    out_.bytes_per_token += row_bytes * static_cast<uint64_t>(n_rows);
    return store_.place(Weight{t.type, t.data.data(), n_rows, n_cols, row_bytes});
  }

  void require_matmul(const TensorInfo& t) const {
    if (!device_.supports(backend::Op::matmul, t.type))
      fail(ErrorCode::unsupported, "[model] {}: tensor '{}' is {}, which the {} matmul does not take",
           spec_.path.string(), shown(t), dtype_name(t.type), device_.display_name());
  }

  // A [n] vector of any float type as f32, plus `offset` (Gemma's 1 + w).
  Vector vector(const std::string& name, int64_t n, float offset = 0.0f) {
    return store_.place(host_vector(require(name), n, offset));
  }

  Vector optional_vector(const std::string& name, int64_t n) {
    const TensorInfo* t = find(name);
    return t ? store_.place(host_vector(*t, n, 0.0f)) : Vector{};
  }

  std::vector<float> optional_host_vector(const std::string& name, int64_t n) {
    const TensorInfo* t = find(name);
    return t ? host_vector(*t, n, 0.0f) : std::vector<float>{};
  }

  // Experts: stacked in the file (GGUF "blk.N.ffn_gate_exps.weight", ggml dims
  // {n_in, n_out, n_experts}) or one tensor per expert (HF: "blk.N.ffn_gate.E.weight"),
  // which are copied into one block so the grouped matmul sees a single [n_experts, ...] tensor.
  Weight experts(const std::string& layer, const std::string& kind, int n_experts, int64_t n_out,
                            int64_t n_in) {
    if (const TensorInfo* t = find(layer + kind + "_exps.weight")) {
      check_dims(*t, {n_in, n_out, n_experts});
      return view(*t, n_out * n_experts, n_in);
    }
    const TensorInfo& first = require(layer + kind + ".0.weight");
    const size_t row_bytes = dtype_row_bytes(first.type, n_in);
    const size_t expert_bytes = row_bytes * static_cast<size_t>(n_out);
    auto block = std::make_unique<uint8_t[]>(expert_bytes * static_cast<size_t>(n_experts));
    for (int e = 0; e < n_experts; ++e) {
      const TensorInfo& t = require(fmt::format("{}{}.{}.weight", layer, kind, e));
      check_dims(t, {n_in, n_out});
      if (t.type != first.type)
        fail(ErrorCode::invalid_model_file, "[model] {}: expert tensor '{}' is {} but expert 0 is {}",
             spec_.path.string(), shown(t), dtype_name(t.type), dtype_name(first.type));
      std::memcpy(block.get() + expert_bytes * static_cast<size_t>(e), t.data.data(), expert_bytes);
    }
    require_matmul(first);
    const Weight host{first.type, block.get(), n_out * n_experts, n_in, row_bytes};
    return store_.place_owned(std::move(block), host);
  }

 private:
  // The file's F32/F16/BF16 values as f32 on the host (a format conversion, before placement).
  std::vector<float> host_vector(const TensorInfo& t, int64_t n, float offset) {
    check_dims(t, {n});
    if (t.type != DType::f32 && t.type != DType::f16 && t.type != DType::bf16)
      fail(ErrorCode::unsupported, "[model] {}: vector tensor '{}' is {}; expected F32, F16 or BF16",
           spec_.path.string(), shown(t), dtype_name(t.type));
    std::vector<float> v(static_cast<size_t>(n));
    dequantize(t.type, t.data.first(dtype_row_bytes(t.type, n)), v);
    if (offset != 0.0f)
      for (float& x : v) x += offset;
    return v;
  }

  const ModelSpec& spec_;
  DecoderWeights& out_;
  const backend::Device& device_;
  backend::WeightStore& store_;
};

}  // namespace

DecoderWeights bind_decoder_weights(const ModelSpec& spec, const DecoderConfig& c, const backend::Device& device,
                                    backend::WeightStore& store) {
  DecoderWeights w;
  Binder b(spec, w, device, store);
  const int64_t q_dim = static_cast<int64_t>(c.n_heads) * c.head_dim;
  const int64_t k_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  const int64_t v_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim_v;
  const int64_t o_in = static_cast<int64_t>(c.n_heads) * c.head_dim_v;
  const float off = c.norm_weight_offset;

  const TensorInfo& embd = b.require("token_embd.weight");
  b.check_dims(embd, {c.hidden, c.vocab});
  if (!device.supports(backend::Op::embedding, embd.type))
    fail(ErrorCode::unsupported, "[model] {}: tensor '{}' is {}, which cannot be read", spec.path.string(),
         b.shown(embd), dtype_name(embd.type));
  backend::validate_embedding_table(embd.type, c.hidden);
  const size_t embedding_row_bytes = dtype_row_bytes(embd.type, c.hidden);
  w.embedding = store.place(Weight{embd.type, embd.data.data(), c.vocab, c.hidden, embedding_row_bytes});

  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    l.attn_norm = b.vector(p + "attn_norm.weight", c.hidden, off);
    if (c.post_attention_norm) l.post_attn_norm = b.vector(p + "post_attention_norm.weight", c.hidden, off);
    l.ffn_norm = b.vector(p + "ffn_norm.weight", c.hidden, off);
    if (c.post_ffn_norm) l.post_ffn_norm = b.vector(p + "post_ffw_norm.weight", c.hidden, off);
    if (c.qk_norm) {
      l.q_norm = b.vector(p + "attn_q_norm.weight", c.head_dim, off);
      l.k_norm = b.vector(p + "attn_k_norm.weight", c.head_dim, off);
    }
    if (b.find(p + "attn_qkv.weight")) {
      l.fused_qkv = true;
      l.qkv = b.matrix(p + "attn_qkv.weight", q_dim + k_dim + v_dim, c.hidden);
    } else {
      l.q = b.matrix(p + "attn_q.weight", q_dim, c.hidden);
      l.k = b.matrix(p + "attn_k.weight", k_dim, c.hidden);
      l.v = b.matrix(p + "attn_v.weight", v_dim, c.hidden);
      l.q_bias = b.optional_vector(p + "attn_q.bias", q_dim);
      l.k_bias = b.optional_vector(p + "attn_k.bias", k_dim);
      l.v_bias = b.optional_vector(p + "attn_v.bias", v_dim);
    }
    l.o = b.matrix(p + "attn_output.weight", c.hidden, o_in);
    l.o_bias = b.optional_vector(p + "attn_output.bias", c.hidden);

    if (c.n_experts > 0) {
      l.router = b.matrix(p + "ffn_gate_inp.weight", c.n_experts, c.hidden);
      const uint64_t before = w.bytes_per_token;
      l.gate_exps = b.experts(p, "ffn_gate", c.n_experts, c.expert_ffn, c.hidden);
      l.up_exps = b.experts(p, "ffn_up", c.n_experts, c.expert_ffn, c.hidden);
      l.down_exps = b.experts(p, "ffn_down", c.n_experts, c.hidden, c.expert_ffn);
      // One token reads only its selected experts.
      const uint64_t all = w.bytes_per_token - before;
      w.bytes_per_token = before + all * static_cast<uint64_t>(c.n_experts_used) / static_cast<uint64_t>(c.n_experts);
    } else if (b.find(p + "ffn_gate.weight")) {
      l.gate = b.matrix(p + "ffn_gate.weight", c.ffn, c.hidden);
      l.up = b.matrix(p + "ffn_up.weight", c.ffn, c.hidden);
      l.down = b.matrix(p + "ffn_down.weight", c.hidden, c.ffn);
    } else {
      l.fused_gate_up = true;  // Phi-3: ffn_up holds [gate | up]
      l.up = b.matrix(p + "ffn_up.weight", 2 * c.ffn, c.hidden);
      l.down = b.matrix(p + "ffn_down.weight", c.hidden, c.ffn);
    }
  }
  w.output_norm = b.vector("output_norm.weight", c.hidden, off);
  w.rope_freqs = b.optional_host_vector("rope_freqs.weight", c.rope.rot_dims / 2);
  // Untied means the file must hold the projection: falling back to the embedding would run a
  // different model than the one described.
  if (!c.tied_embeddings) {
    w.output = b.matrix("output.weight", c.vocab, c.hidden);
  } else {
    w.output = b.view(embd, c.vocab, c.hidden);
  }
  w.bytes_per_token += embedding_row_bytes;  // the one embedding row gathered
  return w;
}

}  // namespace ollm::model
