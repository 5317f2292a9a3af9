// The ranges a real-valued hyper-parameter must fall in, shared by the file readers (which name
// the key that holds a bad value) and the family adapters (which check specs built by hand).
// A value outside them loads without complaint but yields NaN or nonsense logits: an epsilon of
// -1, a RoPE base of 0, a soft-cap of NaN. Upper bounds are FLT_MAX because the decoder computes
// in float: a larger double would become infinity.
#pragma once

#include <cfloat>
#include <string_view>

namespace ollm {

struct RealRange {
  double min;
  bool min_open;  // min itself excluded
  double max;
  bool max_open;
  std::string_view expected;  // for messages: "expected {expected}"

  // False for NaN: every comparison with NaN is false.
  constexpr bool contains(double v) const noexcept {
    return (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max);
  }
};

// RMS/layer-norm epsilon: a small positive stabiliser.
inline constexpr RealRange norm_eps_range{0.0, true, 1.0, true, "a number in (0, 1)"};
// RoPE bases, scaling factors, attention scalars.
inline constexpr RealRange positive_range{0.0, true, FLT_MAX, false, "a finite number > 0"};
// Values where 0 means "off" or "the default" (GGUF soft-caps, YaRN's attention factor and betas).
inline constexpr RealRange off_or_positive_range{0.0, false, FLT_MAX, false, "a finite number >= 0"};

}  // namespace ollm
