// Flat open-addressing hash maps for the hot lookups of tokenization: token string -> id
// (keys live in the vocabulary's own string table) and (left id, right id) -> merge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ollm::tok {

inline uint64_t hash_bytes(std::string_view s) noexcept {
  // FNV-1a over 8-byte words then a final avalanche: fast for short tokens.
  uint64_t h = 0xcbf29ce484222325ull ^ (s.size() * 0x9E3779B97F4A7C15ull);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  __builtin_memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

// Maps strings to ids; the strings themselves are kept by the caller's table (`keys`),
// indexed by id. Duplicate insertions keep the first id unless `overwrite`.
class StringIdMap {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    size_ = 0;
  }
  // keys[id] must hold `key` for as long as the map is used.
  void insert(std::string_view key, int32_t id, const std::vector<std::string>& keys, bool overwrite = false) {
    if ((size_ + 1) * 2 > slots_.size()) grow(keys);
    const uint64_t h = hash_bytes(key);
    size_t i = h & mask_;
    const auto tag = static_cast<uint32_t>(h >> 32);
    while (slots_[i].id >= 0) {
      if (slots_[i].tag == tag && keys[static_cast<size_t>(slots_[i].id)] == key) {
        if (overwrite) slots_[i].id = id;
        return;
      }
      i = (i + 1) & mask_;
    }
    slots_[i] = {tag, id};
    ++size_;
  }
  // insert() for ids 0..n-1 of `keys` (skipping empty strings), prefetching slots ahead.
  void insert_all(const std::vector<std::string>& keys) {
    reserve(keys.size());
    constexpr size_t ahead = 16;
    std::vector<uint64_t> hashes(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) hashes[i] = hash_bytes(keys[i]);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i + ahead < keys.size()) __builtin_prefetch(&slots_[hashes[i + ahead] & mask_]);
      if (keys[i].empty()) continue;
      size_t k = hashes[i] & mask_;
      const auto tag = static_cast<uint32_t>(hashes[i] >> 32);
      bool present = false;
      while (slots_[k].id >= 0) {
        if (slots_[k].tag == tag && keys[static_cast<size_t>(slots_[k].id)] == keys[i]) { present = true; break; }
        k = (k + 1) & mask_;
      }
      if (present) continue;
      slots_[k] = {tag, static_cast<int32_t>(i)};
      ++size_;
    }
  }
  int32_t find(std::string_view key, const std::vector<std::string>& keys) const noexcept {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(key);
    size_t i = h & mask_;
    const auto tag = static_cast<uint32_t>(h >> 32);
    while (slots_[i].id >= 0) {
      if (slots_[i].tag == tag && keys[static_cast<size_t>(slots_[i].id)] == key) return slots_[i].id;
      i = (i + 1) & mask_;
    }
    return -1;
  }
  size_t size() const noexcept { return size_; }

  // find() for many keys at once, hiding memory latency: hashes and slot prefetches first, then
  // the candidate strings are prefetched, then the lookups run on warm cache lines (loading a
  // 262k-token vocabulary does millions of these).
  void find_batch(const std::string_view* in, int32_t* out, size_t n, const std::vector<std::string>& keys) const noexcept {
    constexpr size_t group = 16;
    uint64_t h[group];
    for (size_t base = 0; base < n; base += group) {
      const size_t m = n - base < group ? n - base : group;
      if (slots_.empty()) {
        for (size_t k = 0; k < m; ++k) out[base + k] = -1;
        continue;
      }
      for (size_t k = 0; k < m; ++k) {
        h[k] = hash_bytes(in[base + k]);
        __builtin_prefetch(&slots_[h[k] & mask_]);
      }
      for (size_t k = 0; k < m; ++k) {
        const Slot& s = slots_[h[k] & mask_];
        if (s.id >= 0) __builtin_prefetch(&keys[static_cast<size_t>(s.id)]);
      }
      for (size_t k = 0; k < m; ++k) {
        const Slot& s = slots_[h[k] & mask_];
        if (s.id >= 0) __builtin_prefetch(keys[static_cast<size_t>(s.id)].data());
      }
      for (size_t k = 0; k < m; ++k) out[base + k] = find_hashed(in[base + k], h[k], keys);
    }
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    int32_t id = -1;
  };
  int32_t find_hashed(std::string_view key, uint64_t h, const std::vector<std::string>& keys) const noexcept {
    size_t i = h & mask_;
    const auto tag = static_cast<uint32_t>(h >> 32);
    while (slots_[i].id >= 0) {
      if (slots_[i].tag == tag && keys[static_cast<size_t>(slots_[i].id)] == key) return slots_[i].id;
      i = (i + 1) & mask_;
    }
    return -1;
  }
  void grow(const std::vector<std::string>& keys) {
    std::vector<Slot> old = std::move(slots_);
    reserve(old.empty() ? 16 : old.size());
    for (const Slot& s : old)
      if (s.id >= 0) insert(keys[static_cast<size_t>(s.id)], s.id, keys);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

struct Merge {
  int32_t rank = -1;
  int32_t id = -1;  // the merged token
};

// (left, right) -> Merge. Later insertions of the same pair replace earlier ones, as in HF
// (its merges are collected into a HashMap). Key and value share a 16-byte slot: one cache miss.
class PairMap {
 public:
  // Load factor at most 3/4 (Llama 3's 280k merges: 2^19 slots, 8 MiB, 53 % full); linear probing
  // stays short there and the table is half the size a factor of 1/2 would need.
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap * 3 < n * 4) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    size_ = 0;
  }
  void insert(int32_t a, int32_t b, Merge m) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const uint64_t k = key(a, b);
    size_t i = slot(k);
    while (slots_[i].key != empty && slots_[i].key != k) i = (i + 1) & mask_;
    if (slots_[i].key == empty) ++size_;
    slots_[i] = {k, m};
  }
  void prefetch(int32_t a, int32_t b) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[slot(key(a, b))]);
  }
  const Merge* find(int32_t a, int32_t b) const noexcept {
    if (slots_.empty()) return nullptr;
    const uint64_t k = key(a, b);
    size_t i = slot(k);
    while (slots_[i].key != empty) {
      if (slots_[i].key == k) return &slots_[i].value;
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  size_t size() const noexcept { return size_; }

 private:
  static constexpr uint64_t empty = ~0ull;
  struct Slot {
    uint64_t key = empty;
    Merge value;
  };
  static uint64_t key(int32_t a, int32_t b) noexcept {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  // Both ids must reach the slot bits: multiply, then fold the high half (where a lands) down.
  size_t slot(uint64_t k) const noexcept {
    uint64_t h = (k ^ (k >> 29)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    return h & mask_;
  }
  void grow() {
    auto old = std::move(slots_);
    reserve(old.empty() ? 16 : old.size());
    for (const Slot& s : old)
      if (s.key != empty) insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xffffffffu), s.value);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace ollm::tok
