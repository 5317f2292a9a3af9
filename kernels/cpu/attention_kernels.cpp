// The attention building block, compiled once per ISA: query rows sharing a KV head stream over
// tiles of keys; scores come from a register-blocked (rows x 4 keys) dot-product kernel, then soft-
// capping, masks and an online-softmax update, then P.V accumulated in (rows x 4 vectors) blocks.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/attention_kernel.hpp"
#include "cpu/ops_simd.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

using namespace simd;

// Keys per tile: 64 when every row reads one KV head (prefill: the per-tile softmax work is
// amortised over more keys), 32 when rows span heads (decode: a smaller working set per head
// measured faster on cold caches).
constexpr int tile_one_head = 64, tile_many_heads = 32;
constexpr int s_stride = tile_one_head + 4;  // score row stride (4-key groups may write past cnt)
#if defined(OLLM_ISA_AVX512)
constexpr int chunk_rows = 4;           // 4 rows x 4 keys = 16 accumulators of 32 registers
#else
constexpr int chunk_rows = 2;           // avx2 (16 registers) and scalar
#endif
constexpr float neg_inf = -std::numeric_limits<float>::infinity();

enum class Kv { f32, f16, bf16, q8_0 };

Kv kv_kind(DType t) {
  switch (t) {
    case DType::f16: return Kv::f16;
    case DType::bf16: return Kv::bf16;
    case DType::q8_0: return Kv::q8_0;
    default: return Kv::f32;
  }
}

// Bytes of one head's slice of a token row (dim is a multiple of 32 for Q8_0).
size_t head_bytes(DType t, int dim) {
  const size_t n = static_cast<size_t>(dim);
  switch (t) {
    case DType::f16:
    case DType::bf16: return 2 * n;
    case DType::q8_0: return n / qk_legacy * sizeof(block_q8_0);
    default: return 4 * n;
  }
}

// Elements d .. d + width of a Q8_0 row: d is a multiple of width, so they share one block.
inline V q8_0_load(const uint8_t* row, int d) {
  const uint8_t* blk = row + static_cast<size_t>(d / qk_legacy) * sizeof(block_q8_0);
  const int8_t* qs = reinterpret_cast<const int8_t*>(blk + 2) + d % qk_legacy;
#if defined(OLLM_ISA_AVX512)
  const V x = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs))));
  return mul(x, set1(_cvtsh_ss(load_u16(blk))));
#elif defined(OLLM_ISA_AVX2)
  const V x = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs))));
  return mul(x, set1(_cvtsh_ss(load_u16(blk))));
#else
  return static_cast<float>(*qs) * fp16_to_f32(load_u16(blk));
#endif
}

// Element d.. of a K/V row (any byte alignment), widened to f32.
template <Kv K>
inline V kv_load(const uint8_t* row, int d) {
  if constexpr (K == Kv::q8_0) {
    return q8_0_load(row, d);
  } else if constexpr (K == Kv::f32) {
#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
    return load(reinterpret_cast<const float*>(row) + d);
#else
    float f;
    std::memcpy(&f, row + static_cast<size_t>(d) * 4, 4);
    return f;
#endif
  } else if constexpr (K == Kv::f16) {
    return load_f16(reinterpret_cast<const uint16_t*>(row + static_cast<size_t>(d) * 2));
  } else {
    return load_bf16(reinterpret_cast<const uint16_t*>(row + static_cast<size_t>(d) * 2));
  }
}

template <Kv K>
inline V kv_load_part(const uint8_t* row, int d, int n) {
  if constexpr (K == Kv::q8_0) {
    (void)n;  // a Q8_0 dim is whole blocks: never a partial vector
    return q8_0_load(row, d);
  } else if constexpr (K == Kv::f32) {
#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
    return load_part(reinterpret_cast<const float*>(row) + d, n);
#else
    return kv_load<K>(row, d);
#endif
  } else if constexpr (K == Kv::f16) {
    return load_f16_part(reinterpret_cast<const uint16_t*>(row + static_cast<size_t>(d) * 2), n);
  } else {
    return load_bf16_part(reinterpret_cast<const uint16_t*>(row + static_cast<size_t>(d) * 2), n);
  }
}

// s[r * s_stride + j] = q_r . k_j for r < RB, j < cnt. Four keys at a time: RB x 4 vector
// accumulators, reduced together by hsum4.
template <int RB, Kv K>
void scores(const float* const* q, const uint8_t* const* kp, size_t off, int cnt, int d, float* s) {
  for (int j = 0; j < cnt; j += 4) {
    const uint8_t* k0 = kp[j] + off;
    const uint8_t* k1 = kp[std::min(j + 1, cnt - 1)] + off;
    const uint8_t* k2 = kp[std::min(j + 2, cnt - 1)] + off;
    const uint8_t* k3 = kp[std::min(j + 3, cnt - 1)] + off;
    V acc[RB][4];
    for (int r = 0; r < RB; ++r)
      for (int c = 0; c < 4; ++c) acc[r][c] = zero();
    int e = 0;
    for (; e + width <= d; e += width) {
      const V x0 = kv_load<K>(k0, e), x1 = kv_load<K>(k1, e), x2 = kv_load<K>(k2, e), x3 = kv_load<K>(k3, e);
      for (int r = 0; r < RB; ++r) {
        const V qv = load(q[r] + e);
        acc[r][0] = fmadd(qv, x0, acc[r][0]);
        acc[r][1] = fmadd(qv, x1, acc[r][1]);
        acc[r][2] = fmadd(qv, x2, acc[r][2]);
        acc[r][3] = fmadd(qv, x3, acc[r][3]);
      }
    }
    if (e < d) {
      const int rest = d - e;
      const V x0 = kv_load_part<K>(k0, e, rest), x1 = kv_load_part<K>(k1, e, rest);
      const V x2 = kv_load_part<K>(k2, e, rest), x3 = kv_load_part<K>(k3, e, rest);
      for (int r = 0; r < RB; ++r) {
        const V qv = load_part(q[r] + e, rest);
        acc[r][0] = fmadd(qv, x0, acc[r][0]);
        acc[r][1] = fmadd(qv, x1, acc[r][1]);
        acc[r][2] = fmadd(qv, x2, acc[r][2]);
        acc[r][3] = fmadd(qv, x3, acc[r][3]);
      }
    }
    for (int r = 0; r < RB; ++r) hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], s + r * s_stride + j);
  }
}

// acc_r[c .. c + NV*width) += sum_j p[r][j] v_j[same], for r < RB; Tail: one partial vector.
template <int RB, Kv K, int NV, bool Tail>
void pv_block(const float* p, const uint8_t* const* vp, size_t off, int cnt, int c, int rest, float* const* acc) {
  V a[RB][NV];
  for (int r = 0; r < RB; ++r)
    for (int i = 0; i < NV; ++i)
      a[r][i] = Tail ? load_part(acc[r] + c, rest) : load(acc[r] + c + i * width);
  for (int j = 0; j < cnt; ++j) {
    V x[NV];
    const uint8_t* row = vp[j] + off;
    for (int i = 0; i < NV; ++i) x[i] = Tail ? kv_load_part<K>(row, c, rest) : kv_load<K>(row, c + i * width);
    for (int r = 0; r < RB; ++r) {
      const V pr = set1(p[r * s_stride + j]);
      for (int i = 0; i < NV; ++i) a[r][i] = fmadd(pr, x[i], a[r][i]);
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int i = 0; i < NV; ++i) {
      if (Tail)
        store_part(acc[r] + c, a[r][i], rest);
      else
        store(acc[r] + c + i * width, a[r][i]);
    }
}

template <int RB, Kv K>
void accumulate(const float* p, const uint8_t* const* vp, size_t off, int cnt, int dv, float* const* acc) {
  int c = 0;
  for (; c + 4 * width <= dv; c += 4 * width) pv_block<RB, K, 4, false>(p, vp, off, cnt, c, 0, acc);
  for (; c + width <= dv; c += width) pv_block<RB, K, 1, false>(p, vp, off, cnt, c, 0, acc);
  if (c < dv) pv_block<RB, K, 1, true>(p, vp, off, cnt, c, dv - c, acc);
}

template <int RB>
void scores_rb(Kv k, const float* const* q, const uint8_t* const* kp, size_t off, int cnt, int d, float* s) {
  switch (k) {
    case Kv::f32: return scores<RB, Kv::f32>(q, kp, off, cnt, d, s);
    case Kv::f16: return scores<RB, Kv::f16>(q, kp, off, cnt, d, s);
    case Kv::bf16: return scores<RB, Kv::bf16>(q, kp, off, cnt, d, s);
    case Kv::q8_0: return scores<RB, Kv::q8_0>(q, kp, off, cnt, d, s);
  }
}

template <int RB>
void accumulate_rb(Kv k, const float* p, const uint8_t* const* vp, size_t off, int cnt, int dv, float* const* acc) {
  switch (k) {
    case Kv::f32: return accumulate<RB, Kv::f32>(p, vp, off, cnt, dv, acc);
    case Kv::f16: return accumulate<RB, Kv::f16>(p, vp, off, cnt, dv, acc);
    case Kv::bf16: return accumulate<RB, Kv::bf16>(p, vp, off, cnt, dv, acc);
    case Kv::q8_0: return accumulate<RB, Kv::q8_0>(p, vp, off, cnt, dv, acc);
  }
}

void scores_any(int rb, Kv k, const float* const* q, const uint8_t* const* kp, size_t off, int cnt, int d,
                float* s) {
  if constexpr (chunk_rows == 4) {
    if (rb == 4) return scores_rb<4>(k, q, kp, off, cnt, d, s);
    if (rb == 3) return scores_rb<3>(k, q, kp, off, cnt, d, s);
  }
  if (rb == 2) return scores_rb<2>(k, q, kp, off, cnt, d, s);
  scores_rb<1>(k, q, kp, off, cnt, d, s);
}

void accumulate_any(int rb, Kv k, const float* p, const uint8_t* const* vp, size_t off, int cnt, int dv,
                    float* const* acc) {
  if constexpr (chunk_rows == 4) {
    if (rb == 4) return accumulate_rb<4>(k, p, vp, off, cnt, dv, acc);
    if (rb == 3) return accumulate_rb<3>(k, p, vp, off, cnt, dv, acc);
  }
  if (rb == 2) return accumulate_rb<2>(k, p, vp, off, cnt, dv, acc);
  accumulate_rb<1>(k, p, vp, off, cnt, dv, acc);
}

// s[0..cnt) = cap * tanh(s / cap).
void softcap_row(float* s, int cnt, float cap) {
  const V c = set1(cap), inv = set1(1.0f / cap);
  int j = 0;
  for (; j + width <= cnt; j += width) store(s + j, mul(c, simd::tanh(mul(load(s + j), inv))));
  if (j < cnt) store_part(s + j, mul(c, simd::tanh(mul(load_part(s + j, cnt - j), inv))), cnt - j);
}

// Online-softmax step of one row over scores s[0..cnt) (masked entries -inf): updates m and l,
// rescales acc[0..dv) to the new max, and turns s into the weights e^(s - m).
void online_update(float* s, int cnt, float& m, float& l, float* acc, int dv) {
  V mv = set1(neg_inf);
  int j = 0;
  for (; j + width <= cnt; j += width) mv = max(load(s + j), mv);
  float mt = reduce_max(mv);
  for (; j < cnt; ++j) mt = s[j] > mt ? s[j] : mt;
  if (mt == neg_inf) {  // nothing visible here (or only NaN, which must still poison the row)
    bool nan = false;
    for (j = 0; j < cnt; ++j) {
      nan = nan || std::isnan(s[j]);
      s[j] = 0.0f;
    }
    if (nan) l = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  const float m_new = std::max(m, mt);
  const float corr = m == neg_inf ? 0.0f : std::exp(m - m_new);
  const V mn = set1(m_new);
  V sum = zero();
  for (j = 0; j + width <= cnt; j += width) {
    const V e = exp(sub(load(s + j), mn));
    store(s + j, e);
    sum = add(sum, e);
  }
  float tail = 0.0f;
  for (; j < cnt; ++j) {
    s[j] = std::exp(s[j] - m_new);
    tail += s[j];
  }
  l = l * corr + reduce_add(sum) + tail;
  m = m_new;
  if (corr != 1.0f) {
    const V cv = set1(corr);
    int c = 0;
    for (; c + width <= dv; c += width) store(acc + c, mul(load(acc + c), cv));
    for (; c < dv; ++c) acc[c] *= corr;
  }
}

// A run of up to chunk_rows consecutive rows that read the same KV head, and the keys any of them
// can see (inclusive bounds).
struct Chunk {
  int r0, rb, kv_head;
  int64_t lo, hi;
};

struct Scratch {
  std::vector<float> q;           // [n_rows, head_dim], scaled
  std::vector<const float*> qp;   // [n_rows]
  std::vector<int64_t> bounds;    // [n_rows] lo, hi (inclusive) visible keys
  std::vector<Chunk> chunks;
  float s[chunk_rows * s_stride];
};

}  // namespace

void attention_rows(const AttentionParams& p, const KvView& k, const KvView& v, const AttentionRows& t) {
  thread_local Scratch sc;
  const int d = p.head_dim, dv = p.head_dim_v, n = t.n_rows;
  const Kv kk = kv_kind(k.type), vk = kv_kind(v.type);
  sc.q.resize(static_cast<size_t>(n) * static_cast<size_t>(d));
  sc.qp.resize(static_cast<size_t>(n));
  sc.bounds.resize(2 * static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    float* qs = sc.q.data() + static_cast<size_t>(r) * static_cast<size_t>(d);
    for (int e = 0; e < d; ++e) qs[e] = t.q[r][e] * p.scale;
    sc.qp[static_cast<size_t>(r)] = qs;
    std::fill(t.acc[r], t.acc[r] + dv, 0.0f);
    t.m[r] = neg_inf;
    t.l[r] = 0.0f;
    int64_t lo = t.key_begin, hi = t.key_end - 1;
    if (p.window > 0) lo = std::max<int64_t>(lo, int64_t{t.pos[r]} - p.window + 1);
    if (p.causal) hi = std::min<int64_t>(hi, t.pos[r]);
    sc.bounds[2 * static_cast<size_t>(r)] = lo;
    sc.bounds[2 * static_cast<size_t>(r) + 1] = hi;
  }
  sc.chunks.clear();
  int64_t first = std::numeric_limits<int64_t>::max(), last = -1;
  for (int r0 = 0; r0 < n;) {
    Chunk c{r0, 0, t.kv_head[r0], std::numeric_limits<int64_t>::max(), -1};
    while (c.rb < chunk_rows && r0 + c.rb < n && t.kv_head[r0 + c.rb] == c.kv_head) {
      const size_t r = static_cast<size_t>(r0 + c.rb);
      if (sc.bounds[2 * r] <= sc.bounds[2 * r + 1]) {
        c.lo = std::min(c.lo, sc.bounds[2 * r]);
        c.hi = std::max(c.hi, sc.bounds[2 * r + 1]);
      }
      ++c.rb;
    }
    r0 += c.rb;
    if (c.lo > c.hi) continue;  // no row of this chunk sees a key
    first = std::min(first, c.lo);
    last = std::max(last, c.hi);
    sc.chunks.push_back(c);
  }
  const size_t k_head = head_bytes(k.type, d);
  const size_t v_head = head_bytes(v.type, dv);
  bool one_head = true;
  for (const Chunk& c : sc.chunks) one_head = one_head && c.kv_head == sc.chunks.front().kv_head;
  const int tile = one_head ? tile_one_head : tile_many_heads;
  const uint8_t* kp[tile_one_head];
  const uint8_t* vp[tile_one_head];
  for (int64_t t0 = first; t0 <= last; t0 += tile) {
    const int tn = static_cast<int>(std::min<int64_t>(tile, last - t0 + 1));
    int64_t kb = t0 / k.block_tokens, ko = t0 % k.block_tokens;
    int64_t vb = t0 / v.block_tokens, vo = t0 % v.block_tokens;
    for (int j = 0; j < tn; ++j) {
      kp[j] = static_cast<const uint8_t*>(k.blocks[kb]) + static_cast<size_t>(ko) * k.token_stride;
      vp[j] = static_cast<const uint8_t*>(v.blocks[vb]) + static_cast<size_t>(vo) * v.token_stride;
      if (++ko == k.block_tokens) ko = 0, ++kb;
      if (++vo == v.block_tokens) vo = 0, ++vb;
    }
    for (const Chunk& c : sc.chunks) {
      const int64_t a = std::max(t0, c.lo), b = std::min(t0 + tn - 1, c.hi);  // the chunk's part
      if (a > b) continue;
      const int off = static_cast<int>(a - t0), cnt = static_cast<int>(b - a + 1);
      scores_any(c.rb, kk, sc.qp.data() + c.r0, kp + off, k_head * static_cast<size_t>(c.kv_head), cnt, d, sc.s);
      for (int r = 0; r < c.rb; ++r) {
        float* s = sc.s + r * s_stride;
        if (p.softcap > 0.0f) softcap_row(s, cnt, p.softcap);
        const size_t row = static_cast<size_t>(c.r0 + r);
        const int64_t lo = sc.bounds[2 * row], hi = sc.bounds[2 * row + 1];
        if (lo > a || hi < b)
          for (int j = 0; j < cnt; ++j)
            if (a + j < lo || a + j > hi) s[j] = neg_inf;
        online_update(s, cnt, t.m[row], t.l[row], t.acc[row], dv);
      }
      accumulate_any(c.rb, vk, sc.s, vp + off, v_head * static_cast<size_t>(c.kv_head), cnt, dv, t.acc + c.r0);
    }
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
