// Shared helpers of the transformer-op and attention tests: the supported ISA variants, NaN-poisoned
// and deliberately misaligned buffers, seeded random data and the normalised error against a
// float64 reference (NaN or infinity in the output never passes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "cpu/isa.hpp"

namespace ops_test {

inline std::vector<ollm::cpu::Isa> supported_isas() {
  std::vector<ollm::cpu::Isa> out;
  for (ollm::cpu::Isa isa : ollm::cpu::all_isas)
    if (ollm::cpu::isa_supported(isa)) out.push_back(isa);
  return out;
}

inline constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();

// n floats starting `misalign` floats past a 64-byte boundary (so SIMD loads are never aligned
// by accident), filled with NaN until written.
class Buffer {
 public:
  explicit Buffer(size_t n, size_t misalign = 1) : storage_(n + misalign + 16, nan_f), n_(n) {
    auto base = reinterpret_cast<uintptr_t>(storage_.data());
    const size_t skip = ((64 - base % 64) % 64) / sizeof(float) + misalign;
    data_ = storage_.data() + skip;
  }
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return n_; }
  float& operator[](size_t i) { return data_[i]; }
  float operator[](size_t i) const { return data_[i]; }
  void poison() {
    for (size_t i = 0; i < n_; ++i) data_[i] = nan_f;
  }
  void assign(const std::vector<float>& v) {
    for (size_t i = 0; i < n_; ++i) data_[i] = v[i];
  }

 private:
  std::vector<float> storage_;
  float* data_;
  size_t n_;
};

inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// ||y - ref|| / ||ref|| (or ||y - ref|| when ref is all zeros). +inf when any y is NaN or
// infinite where ref is finite, so a poisoned (unwritten) or broken output always fails.
inline double rel_error(const float* y, const double* ref, size_t n) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y[i]) && std::isfinite(ref[i])) return std::numeric_limits<double>::infinity();
    if (!std::isfinite(ref[i])) {
      if (!(y[i] == ref[i])) return std::numeric_limits<double>::infinity();  // NaN never equals
      continue;
    }
    const double d = static_cast<double>(y[i]) - ref[i];
    diff += d * d;
    norm += ref[i] * ref[i];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

}  // namespace ops_test
