// llama.cpp's CPU rounding steps (see llamacpp_numerics.hpp). The ggml source these follow is
// llama.cpp as vendored by llama-cpp-python 0.3.36: ggml/src/ggml-cpu/{ops.cpp, vec.h, ggml-cpu.c}.
#include "cpu/llamacpp_numerics.hpp"

#include <cassert>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/quant_blocks.hpp"
#include "util/fail.hpp"

namespace ollm::cpu::llamacpp {
namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// ggml_gelu_f32, in float as ggml evaluates it.
float gelu_tanh_f32(float x) {
  constexpr float coef_a = 0.044715f;
  constexpr float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
  return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * x * (1.0f + coef_a * x * x)));
}

// ggml_table_gelu_f16: the fp16 of gelu of every fp16 value (built once, 128 KiB).
const std::vector<uint16_t>& gelu_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(1u << 16);
    for (uint32_t i = 0; i < t.size(); ++i) t[i] = f32_to_fp16(gelu_tanh_f32(fp16_to_f32(static_cast<uint16_t>(i))));
    return t;
  }();
  return table;
}

// One element of a KV row (F16 or F32) as f32.
inline float kv_value(DType type, const uint8_t* row, int64_t i) {
  if (type == DType::f16) return fp16_to_f32(load_u16(row + 2 * i));
  float f;
  std::memcpy(&f, row + 4 * i, 4);
  return f;
}

inline const uint8_t* kv_row(const KvView& kv, int64_t token, int64_t offset_elems) {
  const auto* block = static_cast<const uint8_t*>(kv.blocks[token / kv.block_tokens]);
  const size_t elem = kv.type == DType::f16 ? 2 : 4;
  return block + static_cast<size_t>(token % kv.block_tokens) * kv.token_stride + static_cast<size_t>(offset_elems) * elem;
}

}  // namespace

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = w != nullptr ? xr[i] * scale * w[i] : xr[i] * scale;
  }
}

bool rope_supported(const RopeParams& p) noexcept {
  return p.scaling == RopeScaling::none || p.scaling == RopeScaling::linear;
}

void rope(const RopeParams& p, float* x, int64_t n_tok, int n_heads, const int32_t* pos) {
  assert(rope_supported(p));  // precondition: the CPU backend's make_rope picks this rope only then
  const int half = p.rot_dims / 2;
  const float theta_scale = std::pow(p.theta_base, -2.0f / static_cast<float>(p.rot_dims));
  const float freq_scale = p.scaling == RopeScaling::linear ? 1.0f / p.factor : 1.0f;
  std::vector<float> cos_t(static_cast<size_t>(half)), sin_t(static_cast<size_t>(half));
  for (int64_t t = 0; t < n_tok; ++t) {
    float theta = static_cast<float>(pos[t]);
    for (int i = 0; i < half; ++i) {
      const float angle = freq_scale * theta;
      cos_t[static_cast<size_t>(i)] = std::cos(angle);
      sin_t[static_cast<size_t>(i)] = std::sin(angle);
      theta *= theta_scale;
    }
    for (int h = 0; h < n_heads; ++h) {
      float* xh = x + (t * n_heads + h) * p.head_dim;
      for (int i = 0; i < half; ++i) {
        // NeoX pairs (i, i + rot_dims/2); the original layout pairs (2i, 2i + 1).
        const int a = p.layout == RopeLayout::neox ? i : 2 * i;
        const int b = p.layout == RopeLayout::neox ? i + half : 2 * i + 1;
        const float x0 = xh[a], x1 = xh[b];
        const float c = cos_t[static_cast<size_t>(i)], s = sin_t[static_cast<size_t>(i)];
        xh[a] = x0 * c - x1 * s;
        xh[b] = x0 * s + x1 * c;
      }
    }
  }
}

void round_to_f16(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] = fp16_to_f32(f32_to_fp16(x[i]));
}

void gelu_tanh_gated(const float* gate, const float* up, float* out, int64_t rows, int64_t n, int64_t gate_stride,
                     int64_t up_stride) {
  const std::vector<uint16_t>& table = gelu_table();
  for (int64_t r = 0; r < rows; ++r) {
    const float* g = gate + r * gate_stride;
    const float* u = up + r * up_stride;
    float* o = out + r * n;
    for (int64_t i = 0; i < n; ++i) {
      const float xi = g[i];
      float act;
      if (xi <= -10.0f) {
        act = 0.0f;
      } else if (xi >= 10.0f) {
        act = xi;
      } else {
        act = fp16_to_f32(table[f32_to_fp16(xi)]);
      }
      o[i] = act * u[i];
    }
  }
}

bool attention_supported(DType kv_type) noexcept { return kv_type == DType::f16 || kv_type == DType::f32; }

void attention(const AttentionParams& p, const float* q, const int32_t* q_pos, int64_t n_q, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool, int n_threads) {
  // Precondition: the engine refuses other KV types (Device::supports(attention, type, llamacpp)).
  assert(attention_supported(k.type) && k.type == v.type);
  const bool f16 = k.type == DType::f16;
  const int64_t group = p.n_heads / p.n_kv_heads;
  const int64_t items = n_q * p.n_heads;
  pool.parallel_for(items, n_threads, 1, [&](int64_t begin, int64_t end, int) {
    std::vector<float> qh(static_cast<size_t>(p.head_dim));
    std::vector<float> prob(static_cast<size_t>(k.n_tokens));
    std::vector<float> acc(static_cast<size_t>(p.head_dim_v));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / p.n_heads, h = item % p.n_heads, kvh = h / group;
      const float* qsrc = q + (i * p.n_heads + h) * p.head_dim;
      for (int d = 0; d < p.head_dim; ++d) qh[static_cast<size_t>(d)] = f16 ? fp16_to_f32(f32_to_fp16(qsrc[d])) : qsrc[d];
      const int64_t qp = q_pos[i];
      int64_t lo = 0, hi = k.n_tokens - 1;
      if (p.window > 0) lo = std::max<int64_t>(lo, qp - p.window + 1);
      if (p.causal) hi = std::min<int64_t>(hi, qp);
      // ggml_soft_max_ext: scores times scale, the mask adds -inf, max, exp, sum in double.
      float mx = p.sinks != nullptr ? p.sinks[h] : neg_inf;
      for (int64_t j = lo; j <= hi; ++j) {
        const uint8_t* kr = kv_row(k, j, kvh * p.head_dim);
        float s = 0.0f;
        for (int d = 0; d < p.head_dim; ++d) s += kv_value(k.type, kr, d) * qh[static_cast<size_t>(d)];
        // The scale first (llama.cpp scales Q, or the scores in the softmax), then Gemma 2's
        // soft-capping as its graph spells it: cap * tanh(s * (1 / cap)).
        s *= p.scale;
        if (p.softcap > 0.0f) s = p.softcap * std::tanh(s * (1.0f / p.softcap));
        prob[static_cast<size_t>(j)] = s;
        mx = std::max(mx, s);
      }
      double sum = 0.0;
      for (int64_t j = lo; j <= hi; ++j) {
        const float e = std::exp(prob[static_cast<size_t>(j)] - mx);
        prob[static_cast<size_t>(j)] = e;
        sum += e;
      }
      if (p.sinks != nullptr) sum += std::exp(p.sinks[h] - mx);
      const float inv = sum > 0.0 ? static_cast<float>(1.0 / sum) : 0.0f;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j = lo; j <= hi; ++j) {
        float pj = prob[static_cast<size_t>(j)] * inv;
        if (f16) pj = fp16_to_f32(f32_to_fp16(pj));
        const uint8_t* vr = kv_row(v, j, kvh * p.head_dim_v);
        for (int d = 0; d < p.head_dim_v; ++d) acc[static_cast<size_t>(d)] += pj * kv_value(v.type, vr, d);
      }
      std::copy(acc.begin(), acc.end(), out + (i * p.n_heads + h) * p.head_dim_v);
    }
  });
}

}  // namespace ollm::cpu::llamacpp
