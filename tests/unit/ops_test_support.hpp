// Shared helpers of the CPU kernel tests (ops, attention, matmul, GEMM): the supported ISA variants,
// NaN-poisoned and deliberately misaligned buffers fenced by sentinel guards (so a SIMD tail that
// writes past either end is caught, not silently absorbed by slack), seeded random data and the
// normalised error against a float64 reference (NaN or infinity in the output never passes).
#pragma once

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <string>
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

// The guard pattern: a signalling NaN with a 0xa5 payload. No kernel computes it (arithmetic
// only produces quiet NaNs, and the default NaN is 0x7fc00000/0xffc00000), and as an int32 it is
// no valid id or index, so it is compared bit for bit.
inline constexpr uint32_t sentinel_bits = 0x7fa5a5a5u;

// At least this many guard elements on each side: one AVX-512 vector (16 lanes), so an unmasked
// full-width store of a tail lands entirely inside the guard.
inline constexpr size_t guard_elems = 16;

// n elements starting `misalign` elements past a 64-byte boundary (so SIMD loads are never aligned
// by accident), poisoned until written (floats: NaN; int32: -1), fenced before and after by at
// least `guard_elems` sentinel slots. check_sentinels() reports any slot that changed; the test
// calls it (CHECK_INTACT) after every kernel call that could write the buffer.
// Not copyable: a copy's storage would sit at another alignment than front_ was computed for
// (moving keeps the heap block, so data() and its alignment stay). Limitation: a tail store that
// reads the guard and writes back the same bits (a full-width read-modify-write) is not visible.
template <class T>
class GuardedBuffer {
  static_assert(sizeof(T) == sizeof(uint32_t), "the sentinel is a 32-bit pattern");

 public:
  explicit GuardedBuffer(size_t n, size_t misalign = 1) : n_(n) {
    // guard_elems before, up to 15 more to reach a 64-byte boundary, the misalignment, the data,
    // guard_elems after.
    storage_.resize(guard_elems + 64 / sizeof(T) + misalign + n + guard_elems);
    const auto base = reinterpret_cast<uintptr_t>(storage_.data() + guard_elems);
    front_ = guard_elems + ((64 - base % 64) % 64) / sizeof(T) + misalign;
    restore_sentinels();
    poison();
  }
  GuardedBuffer(const std::vector<T>& values, size_t misalign) : GuardedBuffer(values.size(), misalign) {
    assign(values);
  }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  GuardedBuffer(GuardedBuffer&&) noexcept = default;
  GuardedBuffer& operator=(GuardedBuffer&&) noexcept = default;

  T* data() { return storage_.data() + front_; }
  const T* data() const { return storage_.data() + front_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return data()[i]; }
  T operator[](size_t i) const { return data()[i]; }
  std::span<T> span() { return {data(), n_}; }
  std::span<const T> span() const { return {data(), n_}; }
  std::vector<T> to_vector() const { return std::vector<T>(data(), data() + n_); }

  // Marks every element unwritten; the guards stay as they are (an overwrite found later is still
  // reported).
  void poison() { fill(poison_value()); }
  void fill(T v) {
    for (size_t i = 0; i < n_; ++i) data()[i] = v;
  }
  void assign(const std::vector<T>& v) {
    if (v.size() != n_)
      throw std::invalid_argument("GuardedBuffer::assign: " + std::to_string(v.size()) + " values for " +
                                  std::to_string(n_) + " elements");
    for (size_t i = 0; i < n_; ++i) data()[i] = v[i];
  }

  // The guard slots before data() (storage_[0, front_)) and after data() + n.
  size_t guard_before() const { return front_; }
  size_t guard_after() const { return storage_.size() - front_ - n_; }

  // "" when every guard slot still holds the sentinel; otherwise which slots changed, relative to
  // the data ("data[-1]" is the slot just before the first element, "data[n]" the one just past
  // the last), with their bits.
  std::string check_sentinels() const {
    std::ostringstream out;
    size_t bad = 0;
    auto report = [&](size_t slot) {
      if (bits(storage_[slot]) == sentinel_bits) return;
      if (bad++ < 8) {
        const long long rel = static_cast<long long>(slot) - static_cast<long long>(front_);
        out << (bad > 1 ? ", " : "") << "data[" << rel << "] = 0x" << std::hex << bits(storage_[slot]) << std::dec;
      }
    };
    for (size_t s = 0; s < front_; ++s) report(s);
    for (size_t s = front_ + n_; s < storage_.size(); ++s) report(s);
    if (bad == 0) return {};
    std::ostringstream head;
    head << bad << " guard slot(s) overwritten around " << n_ << " elements";
    return head.str() + ": " + out.str() + (bad > 8 ? ", ..." : "");
  }
  bool intact() const { return check_sentinels().empty(); }
  // Re-arms the guards (after a reported overwrite, so the next check blames the next call only).
  void restore_sentinels() {
    for (size_t s = 0; s < front_; ++s) storage_[s] = std::bit_cast<T>(sentinel_bits);
    for (size_t s = front_ + n_; s < storage_.size(); ++s) storage_[s] = std::bit_cast<T>(sentinel_bits);
  }

 private:
  static uint32_t bits(T v) { return std::bit_cast<uint32_t>(v); }
  static T poison_value() {
    if constexpr (std::is_floating_point_v<T>) {
      return nan_f;
    } else {
      return T(-1);
    }
  }

  std::vector<T> storage_;
  size_t front_ = 0;  // index of data()[0] in storage_
  size_t n_;
};

using Buffer = GuardedBuffer<float>;
using IdBuffer = GuardedBuffer<int32_t>;

namespace detail {
// A const buffer (a kernel's read-only input) is checked but cannot be re-armed.
template <class B>
void rearm(B& b) {
  if constexpr (!std::is_const_v<B>) b.restore_sentinels();
}
}  // namespace detail

// Fails the current test case (not the suite) when a guard of `buf` was overwritten, naming the
// buffer and the slots, then re-arms the guards (unless the buffer is const).
#define CHECK_INTACT(buf)                                                          \
  do {                                                                             \
    const std::string ops_test_guard_report_ = (buf).check_sentinels();            \
    CHECK_MESSAGE(ops_test_guard_report_.empty(), #buf ": " << ops_test_guard_report_); \
    if (!ops_test_guard_report_.empty()) ops_test::detail::rearm(buf);             \
  } while (0)

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
