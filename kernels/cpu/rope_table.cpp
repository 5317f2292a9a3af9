// RoPE inverse frequencies per scaling type, as transformers' modeling_rope_utils defines them
// (_compute_default/linear/llama3/yarn_parameters), computed in f64 and rounded once to f32.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

#include "cpu/ops.hpp"

namespace ollm::cpu {
namespace {

double get_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

// The dimension index at which a frequency completes num_rotations turns over the context.
double correction_dim(double num_rotations, double dim, double base, double max_positions) {
  return dim * std::log(max_positions / (num_rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
}

}  // namespace

float yarn_attention_factor(float factor, float mscale, float mscale_all_dim) {
  if (mscale != 0.0f && mscale_all_dim != 0.0f)
    return static_cast<float>(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim));
  return static_cast<float>(get_mscale(factor, 1.0));
}

RopeTable make_rope_table(const RopeParams& p) {
  // Preconditions (callers validate: backend::validate_rope_params).
  assert(p.rot_dims > 0 && p.rot_dims % 2 == 0 && p.rot_dims <= p.head_dim && p.theta_base > 0.0f);
  const int half = p.rot_dims / 2;
  const double dim = p.rot_dims, base = p.theta_base, factor = p.factor;
  std::vector<double> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) inv[static_cast<size_t>(i)] = 1.0 / std::pow(base, 2.0 * i / dim);

  RopeTable t;
  switch (p.scaling) {
    case RopeScaling::none: break;
    case RopeScaling::linear:
      for (double& f : inv) f /= factor;
      break;
    case RopeScaling::llama3: {
      const double old_ctx = static_cast<double>(p.original_max_positions);
      const double low_wavelen = old_ctx / p.low_freq_factor, high_wavelen = old_ctx / p.high_freq_factor;
      for (double& f : inv) {
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen > low_wavelen) {
          f /= factor;  // low frequencies: interpolated
        } else if (!(wavelen < high_wavelen)) {  // medium: smooth blend
          const double smooth = (old_ctx / wavelen - p.low_freq_factor) / (p.high_freq_factor - p.low_freq_factor);
          f = (1.0 - smooth) * f / factor + smooth * f;
        }
      }
      break;
    }
    case RopeScaling::yarn: {
      const double max_pos = static_cast<double>(p.original_max_positions);
      double low = correction_dim(p.beta_fast, dim, base, max_pos);
      double high = correction_dim(p.beta_slow, dim, base, max_pos);
      if (p.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, dim - 1.0);
      if (low == high) high += 0.001;  // avoid a zero-width ramp
      for (int i = 0; i < half; ++i) {
        // transformers computes the ramp in f32: (arange(dim/2) - low) / (high - low), clamped.
        const float ramp = std::clamp((static_cast<float>(i) - static_cast<float>(low)) /
                                          (static_cast<float>(high) - static_cast<float>(low)),
                                      0.0f, 1.0f);
        const double extrapolation_factor = 1.0 - ramp;
        double& f = inv[static_cast<size_t>(i)];
        f = (f / factor) * (1.0 - extrapolation_factor) + f * extrapolation_factor;
      }
      t.mscale = p.attn_factor > 0.0f ? p.attn_factor : yarn_attention_factor(p.factor, p.mscale, p.mscale_all_dim);
      break;
    }
  }
  t.inv_freq.assign(inv.begin(), inv.end());
  return t;
}

}  // namespace ollm::cpu
