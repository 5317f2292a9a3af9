// Top-k of a logits row: one pass with a k-entry min-heap and a threshold test that rejects almost
// every element with one compare, then a sort of the survivors.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/ops.hpp"

namespace ollm::cpu {
namespace {

struct Entry {
  float value;
  int32_t id;
};

// a ranks above b: larger value, or equal value and lower id.
bool ranks_above(const Entry& a, const Entry& b) { return a.value > b.value || (a.value == b.value && a.id < b.id); }

}  // namespace

void top_k(const float* logits, int64_t n, int64_t k, int32_t* out_ids, float* out_vals) {
  if (k <= 0) return;
  constexpr float neg_inf = -std::numeric_limits<float>::infinity();
  std::vector<Entry> heap;  // heap.front() is the lowest-ranked entry kept
  heap.reserve(static_cast<size_t>(k));
  int64_t i = 0;
  for (; i < n && static_cast<int64_t>(heap.size()) < k; ++i) {
    const float v = std::isnan(logits[i]) ? neg_inf : logits[i];
    heap.push_back({v, static_cast<int32_t>(i)});
    std::push_heap(heap.begin(), heap.end(), ranks_above);
  }
  // Ids only grow from here on, so an equal value never displaces a kept entry: strictly greater
  // is required (a NaN compares false and is skipped, as a -inf would be).
  float threshold = heap.empty() ? neg_inf : heap.front().value;
  for (; i < n; ++i) {
    const float v = logits[i];
    if (!(v > threshold)) continue;
    std::pop_heap(heap.begin(), heap.end(), ranks_above);
    heap.back() = {v, static_cast<int32_t>(i)};
    std::push_heap(heap.begin(), heap.end(), ranks_above);
    threshold = heap.front().value;
  }
  std::sort(heap.begin(), heap.end(), ranks_above);
  for (size_t j = 0; j < heap.size(); ++j) {
    out_ids[j] = heap[j].id;
    out_vals[j] = heap[j].value;
  }
}

}  // namespace ollm::cpu
