// Transformer ops on every compiled ISA variant against float64 references written out here:
// RMSNorm, LayerNorm, activations (plain and gated), softmax, add/scale/softcap, RoPE (layouts x
// scalings x partial rotary, HF formulas), embedding lookup, top-k; plus the public entry points.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

#include "backend/validate.hpp"
#include "cpu/dequantize.hpp"
#include "cpu/ops.hpp"
#include "cpu/ops_isa.hpp"
#include "cpu/quantize.hpp"
#include "ollm/error.hpp"
#include "ollm/ops.hpp"
#include "ops_test_support.hpp"

using namespace ollm;
using namespace ollm::cpu;
using ops_test::Buffer;
using ops_test::IdBuffer;
using ops_test::rel_error;
using ops_test::random_floats;

namespace {

// Normalised-error tolerances. The scalar variant uses libm; the SIMD variants polynomial exp/tanh/
// erfc good to a few ulp, and f32 sums in a different order than the f64 reference.
constexpr double tol_norm = 2e-6;
constexpr double tol_activation = 2e-6;
constexpr double tol_softmax = 2e-6;
constexpr double tol_elementwise = 1e-7;
constexpr double tol_rope = 1e-6;

const std::vector<int64_t> sizes = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 255, 256, 1000, 2048, 4097};

double act_ref(Activation a, double x) {
  switch (a) {
    case Activation::silu: return x / (1.0 + std::exp(-x));
    // 0.5 x (1 + tanh(u)) and 0.5 x (1 + erf(x / sqrt2)), written without the cancellation of
    // 1 + tanh / 1 + erf for negative x (exact identities), so the tails are accurate in f64.
    case Activation::gelu_tanh:
      return x / (1.0 + std::exp(-2.0 * std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
    case Activation::gelu_erf: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  }
  return 0.0;
}

const char* act_name(Activation a) {
  return a == Activation::silu ? "silu" : a == Activation::gelu_tanh ? "gelu_tanh" : "gelu_erf";
}

}  // namespace

TEST_CASE("the error metric fails wrong values, NaN and unwritten (poisoned) outputs") {
  const std::vector<double> ref = {1.0, -2.0, 3.0, 0.5};
  std::vector<float> y = {1.0f, -2.0f, 3.0f, 0.5f};
  CHECK(rel_error(y.data(), ref.data(), 4) == 0.0);
  y[2] = 3.01f;
  CHECK(rel_error(y.data(), ref.data(), 4) > tol_norm);
  y[2] = ops_test::nan_f;
  CHECK(rel_error(y.data(), ref.data(), 4) == std::numeric_limits<double>::infinity());
  Buffer b(4);  // poisoned on creation
  CHECK(rel_error(b.data(), ref.data(), 4) == std::numeric_limits<double>::infinity());
}

TEST_CASE("buffer guards catch a single write just past the end or just before the start") {
  for (size_t misalign : {0, 1, 3}) {
    for (size_t n : {1, 16, 17}) {
      CAPTURE(misalign);
      CAPTURE(n);
      Buffer b(n, misalign);
      REQUIRE(b.intact());
      CHECK(reinterpret_cast<uintptr_t>(b.data()) % 64 == misalign * sizeof(float));
      CHECK(b.guard_before() >= ops_test::guard_elems);
      CHECK(b.guard_after() >= ops_test::guard_elems);
      b.fill(1.0f);  // anything inside the data, the sentinel pattern included, is no overrun
      b[0] = std::bit_cast<float>(ops_test::sentinel_bits);
      CHECK(b.check_sentinels().empty());

      b.data()[n] = 0.5f;  // one float past the end
      const std::string after = b.check_sentinels();
      CHECK_FALSE(b.intact());
      CHECK(after.find("1 guard slot(s) overwritten") != std::string::npos);
      CHECK(after.find("data[" + std::to_string(n) + "] = 0x3f000000") != std::string::npos);
      b.poison();  // poisoning the data neither re-arms nor disturbs the guards
      CHECK(b.check_sentinels() == after);
      b.restore_sentinels();
      CHECK(b.intact());

      b.data()[-1] = ops_test::nan_f;  // one float before the start (a quiet NaN: still caught)
      const std::string before = b.check_sentinels();
      CHECK(before.find("data[-1] = 0x7fc00000") != std::string::npos);
      b.restore_sentinels();

      // The last guaranteed slot on either side, and both at once.
      b.data()[n + ops_test::guard_elems - 1] = 0.0f;
      b.data()[-static_cast<ptrdiff_t>(ops_test::guard_elems)] = 0.0f;
      const std::string both = b.check_sentinels();
      CHECK(both.find("2 guard slot(s)") != std::string::npos);
      CHECK(both.find("data[-16]") != std::string::npos);
      CHECK(both.find("data[" + std::to_string(n + 15) + "]") != std::string::npos);
      b.restore_sentinels();
      CHECK(b.intact());
    }
  }
  IdBuffer ids(5);
  CHECK(ids[4] == -1);  // poisoned
  ids.data()[5] = 0;
  CHECK(ids.check_sentinels().find("data[5] = 0x0") != std::string::npos);
  // Moving keeps the data where it was (and its guards with it).
  Buffer a(7);
  a.fill(2.0f);
  const float* where = a.data();
  Buffer moved(std::move(a));
  CHECK(moved.data() == where);
  CHECK(moved.intact());
}

TEST_CASE("rms_norm and layer_norm match float64 on every ISA, sizes, tails, misalignment, in place") {
  for (Isa isa : ops_test::supported_isas()) {
    const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
    const OpsKernels& k = ops_for(isa);
    for (int64_t n : sizes) {
      CAPTURE(n);
      const int64_t rows = 3;
      const auto xs = random_floats(static_cast<size_t>(rows * n), 11 + static_cast<uint64_t>(n), -3.0f, 3.0f);
      const auto ws = random_floats(static_cast<size_t>(n), 12, 0.5f, 1.5f);
      const auto bs = random_floats(static_cast<size_t>(n), 13);
      Buffer x(xs.size()), w(ws.size(), 3), b(bs.size(), 2), y(xs.size(), 5);
      x.assign(xs);
      w.assign(ws);
      b.assign(bs);
      const float eps = 1e-6f;
      for (int with_w = 0; with_w < 2; ++with_w) {
        std::vector<double> ref(xs.size());
        for (int64_t r = 0; r < rows; ++r) {
          double ss = 0.0;
          for (int64_t i = 0; i < n; ++i) ss += double(xs[r * n + i]) * xs[r * n + i];
          const double inv = 1.0 / std::sqrt(ss / n + eps);
          for (int64_t i = 0; i < n; ++i) ref[r * n + i] = xs[r * n + i] * inv * (with_w ? ws[i] : 1.0);
        }
        y.poison();
        k.rms_norm(x.data(), with_w ? w.data() : nullptr, y.data(), rows, n, eps);
        CHECK(rel_error(y.data(), ref.data(), ref.size()) < tol_norm);
        CHECK_INTACT(y);
        CHECK_INTACT(x);
        CHECK_INTACT(w);
        Buffer inplace(xs.size());
        inplace.assign(xs);
        k.rms_norm(inplace.data(), with_w ? w.data() : nullptr, inplace.data(), rows, n, eps);
        CHECK(rel_error(inplace.data(), ref.data(), ref.size()) < tol_norm);
        CHECK_INTACT(inplace);
      }
      for (int variant = 0; variant < 3; ++variant) {  // neither, weight only, weight and bias
        std::vector<double> ref(xs.size());
        for (int64_t r = 0; r < rows; ++r) {
          double mean = 0.0, var = 0.0;
          for (int64_t i = 0; i < n; ++i) mean += xs[r * n + i];
          mean /= n;
          for (int64_t i = 0; i < n; ++i) var += (xs[r * n + i] - mean) * (xs[r * n + i] - mean);
          var /= n;
          for (int64_t i = 0; i < n; ++i)
            ref[r * n + i] = (xs[r * n + i] - mean) / std::sqrt(var + eps) * (variant >= 1 ? ws[i] : 1.0) +
                             (variant == 2 ? bs[i] : 0.0);
        }
        y.poison();
        k.layer_norm(x.data(), variant >= 1 ? w.data() : nullptr, variant == 2 ? b.data() : nullptr, y.data(), rows,
                     n, eps);
        // n = 1: x - mean is exactly 0 and the reference is the bias alone.
        CHECK(rel_error(y.data(), ref.data(), ref.size()) < tol_norm);
        CHECK_INTACT(y);
        CHECK_INTACT(x);
        CHECK_INTACT(w);
        CHECK_INTACT(b);
        Buffer inplace(xs.size(), 2);
        inplace.assign(xs);
        k.layer_norm(inplace.data(), variant >= 1 ? w.data() : nullptr, variant == 2 ? b.data() : nullptr,
                     inplace.data(), rows, n, eps);
        CHECK(rel_error(inplace.data(), ref.data(), ref.size()) < tol_norm);
        CHECK_INTACT(inplace);
      }
    }
  }
}

TEST_CASE("activations and gated activations match float64 on every ISA, including the far tails") {
  for (Isa isa : ops_test::supported_isas()) {
    const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
    const OpsKernels& k = ops_for(isa);
    for (Activation act : {Activation::silu, Activation::gelu_tanh, Activation::gelu_erf}) {
      const std::string act_s = act_name(act);
      CAPTURE(act_s);
      for (int64_t n : sizes) {
        CAPTURE(n);
        auto xs = random_floats(static_cast<size_t>(n), 21 + static_cast<uint64_t>(n), -8.0f, 8.0f);
        Buffer x(xs.size()), y(xs.size(), 2);
        x.assign(xs);
        std::vector<double> ref(xs.size());
        for (size_t i = 0; i < xs.size(); ++i) ref[i] = act_ref(act, xs[i]);
        k.activation(act, x.data(), y.data(), n);
        CHECK(rel_error(y.data(), ref.data(), ref.size()) < tol_activation);
        CHECK_INTACT(y);
        CHECK_INTACT(x);
        k.activation(act, x.data(), x.data(), n);  // in place
        CHECK(rel_error(x.data(), ref.data(), ref.size()) < tol_activation);
        CHECK_INTACT(x);
      }
      // Element by element over a wide range: relative error where the value is not tiny,
      // finite everywhere (no NaN from exp overflow), exact zero limits respected.
      std::vector<float> wide;
      for (float v = -120.0f; v <= 120.0f; v += 0.37f) wide.push_back(v);
      for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 88.7f, -88.7f, 1e4f, -1e4f, 3e38f, -3e38f})
        wide.push_back(v);
      Buffer x(wide.size()), y(wide.size());
      x.assign(wide);
      k.activation(act, x.data(), y.data(), static_cast<int64_t>(wide.size()));
      CHECK_INTACT(y);
      CHECK_INTACT(x);
      for (size_t i = 0; i < wide.size(); ++i) {
        CAPTURE(wide[i]);
        const double r = act_ref(act, wide[i]);
        REQUIRE(std::isfinite(y[i]));
        // In the negative tail the result is e^(-x^2/2)-like: an f32 rounding of the argument
        // alone moves it by ~x^2 * 6e-8 relative, whatever the kernel does.
        const double xd = wide[i];
        CHECK(std::fabs(y[i] - r) <= (4e-6 + 2e-7 * xd * xd) * std::fabs(r) + 1e-30);
      }
      // Gated: gate and up interleaved in one buffer (row stride 2n), out with stride n.
      for (int64_t n : {1, 17, 64, 100}) {
        CAPTURE(n);
        const int64_t rows = 4;
        const auto gu = random_floats(static_cast<size_t>(rows * 2 * n), 31 + static_cast<uint64_t>(n), -5.0f, 5.0f);
        Buffer g(gu.size()), out(static_cast<size_t>(rows * n), 3);
        g.assign(gu);
        std::vector<double> ref(static_cast<size_t>(rows * n));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < n; ++i)
            ref[r * n + i] = act_ref(act, gu[r * 2 * n + i]) * gu[r * 2 * n + n + i];
        k.gated_activation(act, g.data(), g.data() + n, out.data(), rows, n, 2 * n, 2 * n);
        CHECK(rel_error(out.data(), ref.data(), ref.size()) < tol_activation);
        CHECK_INTACT(out);
        CHECK_INTACT(g);
        // Separate gate and up rows (strides n), out aliasing the gate.
        Buffer gate(static_cast<size_t>(rows * n), 1), up(static_cast<size_t>(rows * n), 2);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < n; ++i) {
            gate[r * n + i] = gu[r * 2 * n + i];
            up[r * n + i] = gu[r * 2 * n + n + i];
          }
        k.gated_activation(act, gate.data(), up.data(), gate.data(), rows, n, n, n);
        CHECK(rel_error(gate.data(), ref.data(), ref.size()) < tol_activation);
        CHECK_INTACT(gate);
        CHECK_INTACT(up);
      }
    }
  }
}

TEST_CASE("softmax is stable and exact to f32 on every ISA; -inf rows give zeros, NaN poisons its row") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (Isa isa : ops_test::supported_isas()) {
    const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
    const OpsKernels& k = ops_for(isa);
    for (int64_t n : sizes) {
      CAPTURE(n);
      const int64_t rows = 3;
      auto xs = random_floats(static_cast<size_t>(rows * n), 41 + static_cast<uint64_t>(n), -30.0f, 30.0f);
      xs[0] += 1000.0f;  // large values must not overflow
      if (n > 2) xs[static_cast<size_t>(n + 1)] = -inf;
      Buffer x(xs.size());
      x.assign(xs);
      std::vector<double> ref(xs.size());
      for (int64_t r = 0; r < rows; ++r) {
        double m = -INFINITY, s = 0.0;
        for (int64_t i = 0; i < n; ++i) m = std::max(m, double(xs[r * n + i]));
        for (int64_t i = 0; i < n; ++i) s += std::exp(xs[r * n + i] - m);
        for (int64_t i = 0; i < n; ++i) ref[r * n + i] = std::exp(xs[r * n + i] - m) / s;
      }
      k.softmax(x.data(), rows, n);
      CHECK(rel_error(x.data(), ref.data(), ref.size()) < tol_softmax);
      CHECK_INTACT(x);
    }
    Buffer row(19);
    for (size_t i = 0; i < 19; ++i) row[i] = -inf;
    k.softmax(row.data(), 1, 19);
    CHECK_INTACT(row);
    for (size_t i = 0; i < 19; ++i) CHECK(row[i] == 0.0f);
    for (size_t i = 0; i < 19; ++i) row[i] = float(i);
    row[5] = ops_test::nan_f;
    k.softmax(row.data(), 1, 19);
    CHECK_INTACT(row);
    for (size_t i = 0; i < 19; ++i) CHECK(std::isnan(row[i]));
  }
}

TEST_CASE("add, scale and softcap match float64 on every ISA") {
  for (Isa isa : ops_test::supported_isas()) {
    const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
    const OpsKernels& k = ops_for(isa);
    for (int64_t n : sizes) {
      CAPTURE(n);
      const auto as = random_floats(static_cast<size_t>(n), 51, -100.0f, 100.0f);
      const auto bs = random_floats(static_cast<size_t>(n), 52, -100.0f, 100.0f);
      Buffer a(as.size()), b(bs.size(), 2), y(as.size(), 3);
      a.assign(as);
      b.assign(bs);
      std::vector<double> ref(as.size());
      for (size_t i = 0; i < as.size(); ++i) ref[i] = double(as[i]) + bs[i];
      k.add(a.data(), b.data(), y.data(), n);
      CHECK(rel_error(y.data(), ref.data(), ref.size()) < tol_elementwise);
      CHECK_INTACT(y);
      CHECK_INTACT(a);
      CHECK_INTACT(b);
      Buffer sum(as.size(), 2);  // in place, y = a + y as the residual adds do
      sum.assign(bs);
      k.add(a.data(), sum.data(), sum.data(), n);
      CHECK(rel_error(sum.data(), ref.data(), ref.size()) < tol_elementwise);
      CHECK_INTACT(sum);
      for (size_t i = 0; i < as.size(); ++i) ref[i] = double(as[i]) * 0.37f;
      y.assign(as);
      k.scale(y.data(), 0.37f, n);
      CHECK(rel_error(y.data(), ref.data(), ref.size()) < tol_elementwise);
      CHECK_INTACT(y);
      for (size_t i = 0; i < as.size(); ++i) ref[i] = 30.0 * std::tanh(as[i] / 30.0);
      y.assign(as);
      k.softcap(y.data(), 30.0f, n);
      CHECK(rel_error(y.data(), ref.data(), ref.size()) < tol_activation);
      CHECK_INTACT(y);
    }
  }
}

// ---- RoPE -----------------------------------------------------------------------------------

namespace {

// transformers' modeling_rope_utils, written out in float64.
std::vector<double> ref_inv_freq(const RopeParams& p, double* attention_factor) {
  const int dim = p.rot_dims;
  const double base = p.theta_base, factor = p.factor;
  std::vector<double> inv(static_cast<size_t>(dim / 2));
  for (int i = 0; i < dim / 2; ++i) inv[i] = 1.0 / std::pow(base, double(2 * i) / dim);
  *attention_factor = 1.0;
  if (p.scaling == RopeScaling::linear) {
    for (double& f : inv) f /= factor;
  } else if (p.scaling == RopeScaling::llama3) {
    const double old = double(p.original_max_positions);
    const double low_wl = old / p.low_freq_factor, high_wl = old / p.high_freq_factor;
    for (double& f : inv) {
      const double wl = 2 * std::numbers::pi / f;
      const double llama = wl > low_wl ? f / factor : f;
      const double smooth = (old / wl - p.low_freq_factor) / (p.high_freq_factor - p.low_freq_factor);
      const double smoothed = (1 - smooth) * llama / factor + smooth * llama;
      const bool medium = !(wl < high_wl) && !(wl > low_wl);
      f = medium ? smoothed : llama;
    }
  } else if (p.scaling == RopeScaling::yarn) {
    auto corr_dim = [&](double rot) {
      return dim * std::log(double(p.original_max_positions) / (rot * 2 * std::numbers::pi)) / (2 * std::log(base));
    };
    double low = corr_dim(p.beta_fast), high = corr_dim(p.beta_slow);
    if (p.truncate) low = std::floor(low), high = std::ceil(high);
    low = std::max(low, 0.0);
    high = std::min(high, dim - 1.0);
    if (low == high) high += 0.001;
    for (int i = 0; i < dim / 2; ++i) {
      const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      const double extra = 1.0 - ramp;
      inv[i] = inv[i] / factor * (1 - extra) + inv[i] * extra;
    }
    *attention_factor = p.attn_factor > 0 ? p.attn_factor : (factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0);
  }
  return inv;
}

}  // namespace

TEST_CASE("RoPE: every layout x scaling x partial rotary matches the float64 HF formulas on every ISA") {
  struct Shape {
    int head_dim, rot_dims, n_heads;
  };
  const Shape shapes[] = {{64, 64, 3}, {128, 128, 2}, {80, 80, 2}, {128, 64, 2}, {96, 32, 3}, {256, 256, 1}, {32, 8, 2}, {64, 18, 1}};
  const int32_t positions[] = {0, 1, 2, 7, 100, 4095, 8191, 32767, 131071, 1000000};
  const int n_tok = static_cast<int>(std::size(positions));
  for (RopeScaling scaling : {RopeScaling::none, RopeScaling::linear, RopeScaling::llama3, RopeScaling::yarn}) {
    for (RopeLayout layout : {RopeLayout::normal, RopeLayout::neox}) {
      for (const Shape& sh : shapes) {
        RopeParams p;
        p.head_dim = sh.head_dim;
        p.rot_dims = sh.rot_dims;
        p.theta_base = scaling == RopeScaling::llama3 ? 500000.0f : 10000.0f;
        p.layout = layout;
        p.scaling = scaling;
        p.factor = scaling == RopeScaling::yarn ? 4.0f : 8.0f;
        p.original_max_positions = scaling == RopeScaling::yarn ? 4096 : 8192;
        CAPTURE(static_cast<int>(scaling));
        CAPTURE(static_cast<int>(layout));
        CAPTURE(sh.head_dim);
        CAPTURE(sh.rot_dims);
        double attention_factor = 0;
        const auto inv_ref = ref_inv_freq(p, &attention_factor);
        const RopeTable table = make_rope_table(p);
        REQUIRE(table.inv_freq.size() == inv_ref.size());
        for (size_t i = 0; i < inv_ref.size(); ++i) CHECK(std::fabs(table.inv_freq[i] / inv_ref[i] - 1.0) < 3e-7);
        CHECK(std::fabs(table.mscale - attention_factor) < 1e-6);

        const size_t count = static_cast<size_t>(n_tok) * sh.n_heads * sh.head_dim;
        const auto xs = random_floats(count, 61 + static_cast<uint64_t>(sh.rot_dims));
        std::vector<double> ref(xs.begin(), xs.end());
        const int half = sh.rot_dims / 2;
        for (int t = 0; t < n_tok; ++t)
          for (int h = 0; h < sh.n_heads; ++h) {
            double* xr = ref.data() + (size_t(t) * sh.n_heads + h) * sh.head_dim;
            for (int i = 0; i < half; ++i) {
              // transformers: the angle is an f32 product, cos/sin (times the factor) exact from it.
              // (The table itself was checked against the formulas above; at position 1e6 one ulp
              // of inv_freq moves the angle by ~0.06, so the rotation is checked from the table.)
              const double angle = static_cast<float>(static_cast<float>(positions[t]) * table.inv_freq[i]);
              const double c = std::cos(angle) * attention_factor, s = std::sin(angle) * attention_factor;
              const int i0 = layout == RopeLayout::neox ? i : 2 * i;
              const int i1 = layout == RopeLayout::neox ? i + half : 2 * i + 1;
              const double x0 = xr[i0], x1 = xr[i1];
              xr[i0] = x0 * c - x1 * s;
              xr[i1] = x1 * c + x0 * s;
            }
          }
        for (Isa isa : ops_test::supported_isas()) {
          const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
          Buffer x(count);
          x.assign(xs);
          ops_for(isa).rope(p, table, x.data(), n_tok, sh.n_heads, positions);
          CHECK(rel_error(x.data(), ref.data(), count) < tol_rope);
          CHECK_INTACT(x);
        }
      }
    }
  }
}

TEST_CASE("RoPE tables: known values, yarn attention factor rules, invalid parameters refused") {
  RopeParams p;
  p.head_dim = 128;
  p.rot_dims = 128;
  p.theta_base = 500000.0f;
  p.scaling = RopeScaling::llama3;
  p.factor = 8.0f;
  p.low_freq_factor = 1.0f;
  p.high_freq_factor = 4.0f;
  p.original_max_positions = 8192;
  const RopeTable t = make_rope_table(p);
  CHECK(t.inv_freq[0] == 1.0f);                                      // high frequency: unchanged
  CHECK(t.inv_freq[63] == doctest::Approx(1.0 / std::pow(500000.0, 126.0 / 128) / 8).epsilon(1e-6));  // low: / factor
  CHECK(yarn_attention_factor(4.0f, 0.0f, 0.0f) == doctest::Approx(0.1 * std::log(4.0) + 1.0));
  CHECK(yarn_attention_factor(40.0f, 1.0f, 1.0f) == doctest::Approx(1.0));  // DeepSeek: the ratio
  CHECK(yarn_attention_factor(40.0f, 0.707f, 0.707f) == doctest::Approx(1.0));
  CHECK(yarn_attention_factor(1.0f, 0.0f, 0.0f) == 1.0f);
  p.scaling = RopeScaling::yarn;
  p.factor = 32.0f;
  p.attn_factor = 1.25f;  // given by the config: used as is
  p.truncate = false;
  CHECK(make_rope_table(p).mscale == 1.25f);
  // Bad parameters are refused by the front code (the public op and the CPU backend's make_rope
  // call backend::validate_rope_params) before the table is built.
  CHECK_NOTHROW(ollm::backend::validate_rope_params(p));
  p.rot_dims = 7;
  CHECK_THROWS_WITH_AS(ollm::backend::validate_rope_params(p),
                       "[rope] rot_dims 7 must be even and in (0, head_dim 128]", Error);
  p.rot_dims = 130;
  CHECK_THROWS_AS(ollm::backend::validate_rope_params(p), Error);
  p.rot_dims = 128;
  p.original_max_positions = 0;
  CHECK_THROWS_WITH_AS(ollm::backend::validate_rope_params(p),
                       "[rope] yarn scaling needs original_max_positions > 0 (got 0)", Error);
  p.original_max_positions = 8192;
  p.factor = 0.0f;
  CHECK_THROWS_WITH_AS(ollm::backend::validate_rope_params(p), "[rope] scaling factor 0 must be positive", Error);
  p.factor = 32.0f;
  p.theta_base = -1.0f;
  CHECK_THROWS_WITH_AS(ollm::backend::validate_rope_params(p), "[rope] theta_base -1 must be positive", Error);
  // The public op validates before it rotates.
  std::vector<float> x(128);
  const std::vector<int32_t> pos = {0};
  CHECK_THROWS_WITH_AS(ollm::rope(p, x, pos, 1), "[rope] theta_base -1 must be positive", Error);
}

// ---- Embedding and top-k --------------------------------------------------------------------

TEST_CASE("embedding_rows dequantizes the selected rows exactly; the front code refuses out-of-range ids") {
  const int64_t vocab = 37, n = 256;
  const auto values = random_floats(static_cast<size_t>(vocab * n), 71, -2.0f, 2.0f);
  for (DType type : {DType::f32, DType::f16, DType::bf16, DType::q8_0, DType::q4_k}) {
    CAPTURE(dtype_name(type));
    const size_t row_bytes = dtype_row_bytes(type, n);
    const size_t stride = row_bytes + 3;  // padded rows, odd alignment
    std::vector<uint8_t> table(vocab * stride + 1);
    for (int64_t r = 0; r < vocab; ++r) quantize_row(type, values.data() + r * n, table.data() + 1 + r * stride, n);
    const std::vector<int32_t> ids = {0, 36, 5, 5, 17};
    Buffer out(ids.size() * n);
    embedding_rows(type, table.data() + 1, stride, vocab, n, ids.data(), static_cast<int64_t>(ids.size()), out.data());
    CHECK_INTACT(out);
    std::vector<float> expect(static_cast<size_t>(n));
    for (size_t t = 0; t < ids.size(); ++t) {
      dequantize_row(type, table.data() + 1 + ids[t] * stride, expect.data(), n);
      for (int64_t i = 0; i < n; ++i) REQUIRE(out[t * n + i] == expect[i]);
    }
    const std::vector<int32_t> bad = {3, 37};
    CHECK_NOTHROW(ollm::backend::validate_token_ids(ids.data(), static_cast<int64_t>(ids.size()), vocab));
    CHECK_NOTHROW(ollm::backend::validate_embedding_table(type, n));
    try {
      ollm::backend::validate_token_ids(bad.data(), 2, vocab);
      FAIL("no error for id 37");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      CHECK(std::string(e.what()).find("37") != std::string::npos);
      CHECK(std::string(e.what()).find("[0, 37)") != std::string::npos);
    }
    CHECK_INTACT(out);
    const std::vector<int32_t> negative = {-1};
    CHECK_THROWS_WITH_AS(ollm::backend::validate_token_ids(negative.data(), 1, vocab),
                         "[embedding] token id -1 (at index 0) is outside the vocabulary [0, 37)", Error);
    if (dtype_traits(type)->block_elements > 1)
      CHECK_THROWS_WITH_AS(ollm::backend::validate_embedding_table(type, n + 1),
                           doctest::Contains("[embedding] row length 257 is not a whole number of"), Error);
  }
  CHECK_THROWS_WITH_AS(ollm::backend::validate_embedding_table(DType::f32, 0),
                       "[embedding] row length 0 is not a whole number of 1-element F32 blocks", Error);
  CHECK_THROWS_WITH_AS(ollm::backend::validate_embedding_table(DType::i32, 8),
                       "[embedding] no dequantizer for table type I32", Error);
}

TEST_CASE("top_k: sorted descending, ties by lower id, NaN ranked as -inf") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  auto check = [](const std::vector<float>& logits, int64_t k) {
    const int64_t n = static_cast<int64_t>(logits.size());
    std::vector<int32_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    auto key = [&](int32_t i) { return std::isnan(logits[i]) ? -inf : logits[i]; };
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return key(a) > key(b); });
    IdBuffer ids(static_cast<size_t>(k));  // poisoned: -1, NaN
    Buffer vals(static_cast<size_t>(k), 2);
    top_k(logits.data(), n, k, ids.data(), vals.data());
    CHECK_INTACT(ids);
    CHECK_INTACT(vals);
    for (int64_t j = 0; j < k; ++j) {
      CAPTURE(j);
      REQUIRE(ids[j] == order[j]);
      REQUIRE(vals[j] == key(order[j]));
    }
  };
  std::vector<float> small = {1.0f, 3.0f, 3.0f, -1.0f, 3.0f, 0.5f, 2.0f};
  for (int64_t k = 0; k <= 7; ++k) check(small, k);
  std::vector<float> with_nan = {ops_test::nan_f, -inf, 2.0f, ops_test::nan_f, -inf, 1.0f};
  for (int64_t k = 0; k <= 6; ++k) check(with_nan, k);
  IdBuffer ids(3);
  Buffer vals(3);
  top_k(with_nan.data(), 6, 3, ids.data(), vals.data());
  CHECK_INTACT(ids);
  CHECK_INTACT(vals);
  CHECK(ids.to_vector() == std::vector<int32_t>{2, 5, 0});  // NaN at 0 ties with -inf at 1, lower id first
  CHECK(vals[2] == -inf);
  // A vocabulary-sized row with many exact ties (values on a coarse grid).
  std::vector<float> big(151936);
  std::mt19937 rng(5);
  for (float& v : big) v = static_cast<float>(static_cast<int>(rng() % 2000)) * 0.01f;
  for (int64_t k : {1, 40, 1000}) check(big, k);
}

// ---- Public entry points --------------------------------------------------------------------

TEST_CASE("public rms_norm and rope validate shapes and agree with the kernels") {
  const auto xs = random_floats(5 * 64, 81);
  const auto ws = random_floats(64, 82);
  Buffer y(xs.size()), expect(xs.size(), 3);
  ollm::rms_norm(xs, ws, y.span(), 64, 1e-5f);
  cpu::rms_norm(xs.data(), ws.data(), expect.data(), 5, 64, 1e-5f);
  CHECK_INTACT(y);
  CHECK_INTACT(expect);
  CHECK(y.to_vector() == expect.to_vector());
  ollm::rms_norm(xs, {}, y.span(), 64, 1e-5f, 2);
  cpu::rms_norm(xs.data(), nullptr, expect.data(), 5, 64, 1e-5f);
  CHECK_INTACT(y);
  CHECK_INTACT(expect);
  CHECK(y.to_vector() == expect.to_vector());
  CHECK_THROWS_AS(ollm::rms_norm(xs, ws, y.span(), 60, 1e-5f), Error);
  CHECK_THROWS_AS(ollm::rms_norm(xs, std::span<const float>(ws).first(10), y.span(), 64, 1e-5f), Error);
  CHECK_THROWS_AS(ollm::rms_norm(xs, ws, y.span().first(64), 64, 1e-5f), Error);
  CHECK_INTACT(y);

  RopeParams p;
  p.head_dim = 64;
  p.rot_dims = 32;
  p.layout = RopeLayout::neox;
  Buffer x(xs, 1), x2(xs, 2);  // 5 tokens x 1 head x 64
  const std::vector<int32_t> pos = {0, 3, 9, 27, 81};
  ollm::rope(p, x.span(), pos, 1);
  cpu::rope(p, make_rope_table(p), x2.data(), 5, 1, pos.data());
  CHECK_INTACT(x);
  CHECK_INTACT(x2);
  CHECK(x.to_vector() == x2.to_vector());
  try {
    ollm::rope(p, x.span(), pos, 2);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("[rope] x has 320 values") != std::string::npos);
  }
}
