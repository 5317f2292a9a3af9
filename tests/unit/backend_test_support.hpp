// Helpers of the backend op tests: the device under test (OLLM_TEST_DEVICE, default "cpu"),
// device arrays fenced by sentinels that are checked after every op, and the normalised error
// against a float64 host reference (NaN or infinity never passes).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.hpp"

namespace backend_test {

using ollm::backend::Backend;
using ollm::backend::Buffer;

// The device the op and model tests run on: OLLM_TEST_DEVICE, or the CPU.
inline std::string test_device() {
  const char* d = std::getenv("OLLM_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

// A bit pattern no op writes: a signalling NaN with a payload, compared bit for bit.
inline constexpr uint32_t sentinel_bits = 0x7fa5a5a5u;
inline constexpr uint32_t poison_bits = 0x7fc00000u;  // quiet NaN: an output slot never written

// `n` 4-byte elements on the device with `pad` sentinel elements before and after them.
template <class T>
class DeviceArray {
  static_assert(sizeof(T) == 4);

 public:
  static constexpr size_t pad = 16;

  DeviceArray(Backend& be, size_t n) : be_(&be), n_(n), buffer_(be.allocate((n + 2 * pad) * 4)) {
    std::vector<uint32_t> init(n + 2 * pad, sentinel_bits);
    for (size_t i = 0; i < n; ++i) init[pad + i] = poison_bits;
    be.upload(init.data(), buffer_->data(), init.size() * 4);
  }
  DeviceArray(Backend& be, const std::vector<T>& values) : DeviceArray(be, values.size()) { set(values); }

  T* ptr() { return reinterpret_cast<T*>(static_cast<uint32_t*>(buffer_->data()) + pad); }
  size_t size() const { return n_; }
  void set(const std::vector<T>& values) { be_->upload(values.data(), ptr(), values.size() * 4); }
  std::vector<T> get() {
    std::vector<T> out(n_);
    be_->download(ptr(), out.data(), n_ * 4);
    return out;
  }
  // Empty when every sentinel is intact; else which one was overwritten.
  std::string damage() {
    std::vector<uint32_t> all(n_ + 2 * pad);
    be_->download(buffer_->data(), all.data(), all.size() * 4);
    for (size_t i = 0; i < pad; ++i) {
      if (all[i] != sentinel_bits) return "element " + std::to_string(static_cast<long>(i) - long(pad)) + " before the start";
      if (all[pad + n_ + i] != sentinel_bits) return "element " + std::to_string(i) + " past the end";
    }
    return {};
  }

 private:
  Backend* be_;
  size_t n_;
  std::unique_ptr<Buffer> buffer_;
};

using DeviceFloats = DeviceArray<float>;
using DeviceInts = DeviceArray<int32_t>;

inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// ||ours - ref|| / ||ref||; +inf when ours holds a NaN or infinity or the sizes differ.
inline double normalised_error(const std::vector<float>& ours, const std::vector<double>& ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (!std::isfinite(ours[i])) return INFINITY;
    num += (ours[i] - ref[i]) * (ours[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

}  // namespace backend_test
