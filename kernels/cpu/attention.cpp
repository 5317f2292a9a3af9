// The threaded attention driver: plans work items (query blocks x KV heads, optionally split along
// the keys), runs the per-ISA building block on the pool with dynamic scheduling, then finalises
// rows (sinks, 1/sum) or merges split partial states.
#include "cpu/attention.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/attention_kernel.hpp"

namespace ollm::cpu {
namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();
constexpr int64_t rows_per_item = 16;        // prefill: query rows sharing one pass over the keys
constexpr int64_t max_streaming_rows = 128;  // up to this many rows (n_q x n_heads): decode plan
constexpr int64_t min_keys_per_split = 256;  // below this a split costs more than it balances

using RowsFn = void (*)(const AttentionParams&, const KvView&, const KvView&, const AttentionRows&);

// Turns the state (m, l, acc) of one row into its output: acc * e^(m - M) / (l e^(m - M) + e^(sink - M)).
void finalize_row(float* acc, int dv, float m, float l, const float* sink) {
  float scale;
  if (sink) {
    const float mf = std::max(m, *sink);
    const float w = m == neg_inf ? 0.0f : std::exp(m - mf);
    scale = w / (l * w + std::exp(*sink - mf));
  } else if (l == 0.0f) {
    scale = 0.0f;  // no visible key
  } else {
    scale = 1.0f / l;  // NaN stays NaN
  }
  if (scale == 0.0f) {
    std::fill(acc, acc + dv, 0.0f);
  } else {
    for (int i = 0; i < dv; ++i) acc[i] *= scale;
  }
}

}  // namespace

bool attention_supports(DType kv_type) noexcept {
  return kv_type == DType::f32 || kv_type == DType::f16 || kv_type == DType::bf16 || kv_type == DType::q8_0;
}

AttentionPlan plan_attention(const AttentionParams& p, int64_t n_q, int64_t n_keys, int n_threads) {
  const int64_t group = p.n_heads / p.n_kv_heads;
  AttentionPlan plan;
  if (n_q * p.n_heads <= max_streaming_rows) {
    // Decode (few rows): every query and head in one pass that reads whole token rows front to
    // back; threads split the keys.
    plan.queries_per_item = std::max<int64_t>(n_q, 1);
    plan.heads_per_item = p.n_kv_heads;
    plan.n_items = 1;
    plan.kv_splits = static_cast<int>(std::clamp<int64_t>(n_keys / min_keys_per_split, 1, n_threads));
    return plan;
  }
  // Prefill: items of (query block, KV head), scheduled dynamically; their K/V stays in cache.
  plan.queries_per_item = std::clamp<int64_t>(rows_per_item / group, 1, n_q);
  plan.heads_per_item = 1;
  plan.n_items = (n_q + plan.queries_per_item - 1) / plan.queries_per_item * p.n_kv_heads;
  plan.kv_splits = 1;
  return plan;
}

void attention(Isa isa, const AttentionParams& p, const float* q, const int32_t* q_pos, int64_t n_q, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool, int n_threads) {
  if (n_q <= 0) return;
  n_threads = std::clamp(n_threads, 1, pool.size());
  const RowsFn rows_fn = pick_isa<RowsFn>(isa, &scalar::attention_rows, &avx2::attention_rows, &avx512::attention_rows);
  const int64_t n_keys = std::min(k.n_tokens, v.n_tokens);
  const AttentionPlan plan = plan_attention(p, n_q, n_keys, n_threads);
  const int group = p.n_heads / p.n_kv_heads;
  const int64_t qpi = plan.queries_per_item;
  const int hpi = plan.heads_per_item;
  const int64_t head_blocks = p.n_kv_heads / hpi;
  const int splits = plan.kv_splits;
  const int64_t max_rows = qpi * hpi * group;
  const int64_t q_row = int64_t{p.n_heads} * p.head_dim, o_row = int64_t{p.n_heads} * p.head_dim_v;
  const int dv = p.head_dim_v;

  // Split partial states: [item][split][row] -> (acc[dv], m, l).
  const size_t part_stride = static_cast<size_t>(dv) + 2;
  std::vector<float> partial;
  if (splits > 1) partial.resize(static_cast<size_t>(plan.n_items * splits * max_rows) * part_stride);

  // Item -> its queries [q0, q0 + nq) and KV heads [kh0, kh0 + hpi). Rows are ordered by KV head,
  // then query, then the head's group member, so rows sharing a KV head are consecutive.
  struct ItemRows {
    int64_t q0, nq;
    int kh0;
  };
  auto item_rows = [&](int64_t item) {
    const int64_t qb = plan.n_items / head_blocks - 1 - item / head_blocks;  // late causal blocks first
    const int64_t q0 = qb * qpi;
    return ItemRows{q0, std::min(qpi, n_q - q0), static_cast<int>(item % head_blocks) * hpi};
  };
  auto row_head = [&](const ItemRows& it, int64_t r, int64_t& qi) {  // -> query head, query index
    const int64_t per_head = it.nq * group;
    const int64_t kh = it.kh0 + r / per_head;
    qi = it.q0 + (r % per_head) / group;
    return static_cast<int>(kh * group + r % group);
  };

  const int64_t n_tasks = plan.n_items * splits;
  std::atomic<int64_t> next{0};
  pool.run(n_threads, [&](int, int) {
    std::vector<const float*> qp(static_cast<size_t>(max_rows));
    std::vector<int32_t> pos(static_cast<size_t>(max_rows));
    std::vector<int> heads(static_cast<size_t>(max_rows));
    std::vector<float*> acc(static_cast<size_t>(max_rows));
    std::vector<float> ml(2 * static_cast<size_t>(max_rows));
    for (int64_t task = next.fetch_add(1); task < n_tasks; task = next.fetch_add(1)) {
      const int64_t item = task / splits;
      const int split = static_cast<int>(task % splits);
      const ItemRows it = item_rows(item);
      int32_t min_pos = std::numeric_limits<int32_t>::max(), max_pos = 0;
      for (int64_t i = 0; i < it.nq; ++i) {
        min_pos = std::min(min_pos, q_pos[it.q0 + i]);
        max_pos = std::max(max_pos, q_pos[it.q0 + i]);
      }
      int64_t lo = 0, hi = n_keys;
      if (p.window > 0) lo = std::max<int64_t>(0, int64_t{min_pos} - p.window + 1);
      if (p.causal) hi = std::min<int64_t>(n_keys, int64_t{max_pos} + 1);
      hi = std::max(hi, lo);
      const int64_t span = hi - lo;
      const int n_rows = static_cast<int>(it.nq * hpi * group);
      float* mp = ml.data();
      float* lp = ml.data() + max_rows;
      for (int r = 0; r < n_rows; ++r) {
        int64_t qi;
        const int h = row_head(it, r, qi);
        qp[static_cast<size_t>(r)] = q + qi * q_row + int64_t{h} * p.head_dim;
        pos[static_cast<size_t>(r)] = q_pos[qi];
        heads[static_cast<size_t>(r)] = h / group;
        acc[static_cast<size_t>(r)] =
            splits == 1 ? out + qi * o_row + int64_t{h} * dv
                        : partial.data() + (static_cast<size_t>((item * splits + split) * max_rows) + static_cast<size_t>(r)) * part_stride;
      }
      const AttentionRows rows{n_rows, qp.data(), pos.data(), heads.data(), lo + span * split / splits,
                               lo + span * (split + 1) / splits, acc.data(), mp, lp};
      rows_fn(p, k, v, rows);
      for (int r = 0; r < n_rows; ++r) {
        float* a = acc[static_cast<size_t>(r)];
        if (splits == 1) {
          int64_t qi;
          const int h = row_head(it, r, qi);
          finalize_row(a, dv, mp[r], lp[r], p.sinks ? p.sinks + h : nullptr);
        } else {
          a[dv] = mp[r];
          a[dv + 1] = lp[r];
        }
      }
    }
  });
  if (splits == 1) return;

  // Merge the split states of every row: M = max m_s, acc = sum_s e^(m_s - M) acc_s, likewise l.
  const int64_t rows_total = plan.n_items * max_rows;
  pool.parallel_for(rows_total, n_threads, 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t ir = begin; ir < end; ++ir) {
      const int64_t item = ir / max_rows, r = ir % max_rows;
      const ItemRows it = item_rows(item);
      if (r >= it.nq * hpi * group) continue;
      int64_t qi;
      const int h = row_head(it, r, qi);
      float* o = out + qi * o_row + int64_t{h} * dv;
      auto part = [&](int s) {
        return partial.data() + static_cast<size_t>((item * splits + s) * max_rows + r) * part_stride;
      };
      float m = neg_inf;
      for (int s = 0; s < splits; ++s) m = std::max(m, part(s)[dv]);
      float l = 0.0f;
      std::fill(o, o + dv, 0.0f);
      for (int s = 0; s < splits; ++s) {
        const float* ps = part(s);
        if (ps[dv] == neg_inf) {
          l += ps[dv + 1];  // 0, or NaN when that part saw a NaN score
          continue;
        }
        const float w = std::exp(ps[dv] - m);
        l += ps[dv + 1] * w;
        for (int c = 0; c < dv; ++c) o[c] += ps[c] * w;
      }
      finalize_row(o, dv, m, l, p.sinks ? p.sinks + h : nullptr);
    }
  });
}

void attention(const AttentionParams& p, const float* q, const int32_t* q_pos, int64_t n_q, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool, int n_threads) {
  attention(selected_isa(), p, q, q_pos, n_q, k, v, out, pool, n_threads);
}

}  // namespace ollm::cpu
