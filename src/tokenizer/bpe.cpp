// Byte-pair encoding as HF `tokenizers` runs it: characters (or byte-fallback tokens) become
// symbols, then the adjacent pair with the lowest merge rank (leftmost on ties) merges until none
// is left. Short words scan cached pair ranks; long ones (a whole Gemma text) use a heap.
//
// SentencePiece vocabularies (GGUF "llama") have scores instead of merges. HF's converter derives
// merges from them, but deriving them for a 262k vocabulary (every split of every token, two
// lookups each, then a sort of about a million candidates) took ~300 ms of every model load.
// Instead the rank of a pair is computed when the pair is seen, as llama.cpp's SentencePiece
// tokenizer does; the key below orders pairs exactly as the derived list would (see ScoreKey).
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "tokenizer/model.hpp"
#include "tokenizer/unicode.hpp"
#include "util/fail.hpp"

namespace ollm::tok {

std::vector<std::string> tokens_by_id(std::vector<std::pair<std::string, int32_t>>&& entries) {
  int32_t max_id = -1;
  for (const auto& [str, id] : entries) {
    if (id < 0) fail(ErrorCode::invalid_model_file, "[tokenizer] negative token id {} for '{}'", id, str);
    max_id = std::max(max_id, id);
  }
  std::vector<std::string> tokens(static_cast<size_t>(max_id + 1));
  for (auto& [str, id] : entries) tokens[static_cast<size_t>(id)] = std::move(str);
  return tokens;
}

void Vocab::build(std::vector<std::string>&& by_id) {
  tokens = std::move(by_id);
  size_t non_empty = 0;
  for (const std::string& t : tokens) non_empty += !t.empty();
  index.insert_all(tokens);
  has_duplicates = index.size() != non_empty;
}

namespace {

constexpr size_t heap_threshold = 96;  // symbols; above this the O(n^2) scan loses to the heap
constexpr size_t bmp_size = 0x10000;

// The priority of a pair: lower merges first, the leftmost pair on ties.
// With a merges list it is the rank.
struct RankKey {
  int32_t rank = INT32_MAX;  // the default: no merge
  bool none() const noexcept { return rank == INT32_MAX; }
  bool operator<(const RankKey& o) const noexcept { return rank < o.rank; }
  bool operator==(const RankKey& o) const noexcept = default;
};

// From scores it is the position the pair would have in the merges list HF's
// SentencePieceExtractor derives: sorted by (score of the merged token, characters of the left
// part, characters of the right part) descending, then merged id ascending (the left and right
// ids that follow in its order are fixed once the merged token and the split are).
struct ScoreKey {
  uint64_t hi = ~0ull, lo = ~0ull;  // the default: no merge (no real key: a left part has characters)
  bool none() const noexcept { return hi == ~0ull && lo == ~0ull; }
  bool operator<(const ScoreKey& o) const noexcept { return hi != o.hi ? hi < o.hi : lo < o.lo; }
  bool operator==(const ScoreKey& o) const noexcept = default;
};

template <class Key>
struct Symbol {
  int32_t id;
  int32_t prev, next;
  int32_t new_id;  // what the pair (this, next) merges into
  Key key;         // of that pair
  bool alive;
};

// Descending score as an ascending unsigned key (0 and -0 equal, as float comparison has them).
uint32_t descending_score_key(float score) noexcept {
  if (score == 0.0f) score = 0.0f;
  const auto u = std::bit_cast<uint32_t>(score);
  const uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~ascending;
}

// Characters as HF's split loop counts them (one per lead byte stepped over); `exact` is false
// when the last step overshoots the end, i.e. the string ends inside a sequence.
uint32_t char_count(std::string_view s, bool& exact) noexcept {
  uint32_t n = 0;
  size_t i = 0;
  for (; i < s.size(); i += utf8_len(static_cast<unsigned char>(s[i]))) ++n;
  exact = i == s.size();
  return n;
}

// Scored pairs cost a string lookup in the 262k-entry vocabulary (cache misses); the same pairs
// recur constantly, so each thread remembers recent ones. It memoizes a pure function of the pair:
// results never depend on what was encoded before. Entries name their model by a serial number
// that is not reused, so a model freed and another allocated at its address cannot hit.
struct PairCacheEntry {
  int32_t a = -1, b = -1;
  uint32_t model = 0;  // 0: empty
  int32_t new_id = -1;  // -1: the pair does not merge
  ScoreKey key;
};
constexpr size_t pair_cache_size = 4096;  // 128 KiB per thread
std::atomic<uint32_t> next_model_serial{1};

class BpeModel final : public Model {
 public:
  BpeModel(std::vector<std::string> tokens, BpeOptions options) : opt_(std::move(options)) {
    vocab_.build(std::move(tokens));
    if (!opt_.unk_token.empty()) {
      unk_id_ = vocab_.find(opt_.unk_token);
      if (unk_id_ < 0)
        fail(ErrorCode::invalid_model_file, "[tokenizer] BPE unk_token '{}' is not in the vocabulary", opt_.unk_token);
    }
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      byte_ids_[b] = vocab_.find(name);
    }
    simple_chars_ = opt_.continuing_subword_prefix.empty() && opt_.end_of_word_suffix.empty();
    if (simple_chars_) {
      bmp_ids_.assign(bmp_size, -1);
      for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
        const std::string& t = vocab_.tokens[id];
        if (t.empty() || utf8_len(static_cast<unsigned char>(t[0])) != t.size()) continue;
        size_t i = 0;
        const char32_t cp = next_cp(t, i);
        if (cp < bmp_size && vocab_.find(t) == static_cast<int32_t>(id)) bmp_ids_[cp] = static_cast<int32_t>(id);
      }
    }
  }

  void set_merges(const std::vector<std::pair<std::string_view, std::string_view>>& merges) {
    merges_.reserve(merges.size());
    const size_t plen = opt_.continuing_subword_prefix.size();
    // Batches of lookups (see StringIdMap::find_batch): the loops below are memory-bound.
    constexpr size_t batch = 256;
    std::string_view names[2 * batch];
    int32_t ids[2 * batch];
    std::string joined[batch];
    std::string_view joined_views[batch];
    int32_t merged[batch];
    for (size_t base = 0; base < merges.size(); base += batch) {
      const size_t m = std::min(batch, merges.size() - base);
      for (size_t k = 0; k < m; ++k) {
        names[2 * k] = merges[base + k].first;
        names[2 * k + 1] = merges[base + k].second;
      }
      vocab_.index.find_batch(names, ids, 2 * m, vocab_.tokens);
      for (size_t k = 0; k < m; ++k) {
        const auto& [a, b] = merges[base + k];
        if (ids[2 * k] < 0 || ids[2 * k + 1] < 0)
          fail(ErrorCode::invalid_model_file, "[tokenizer] BPE merge {} ('{}' '{}') uses a token missing from the vocabulary",
               base + k, a, b);
        joined[k].assign(a);
        if (plen && b.substr(0, plen) == opt_.continuing_subword_prefix) joined[k].append(b.substr(plen));
        else joined[k].append(b);
        joined_views[k] = joined[k];
      }
      vocab_.index.find_batch(joined_views, merged, m, vocab_.tokens);
      for (size_t k = 0; k < m; ++k) merges_.prefetch(ids[2 * k], ids[2 * k + 1]);
      for (size_t k = 0; k < m; ++k) {
        if (merged[k] < 0)
          fail(ErrorCode::invalid_model_file, "[tokenizer] BPE merge {} ('{}' '{}') produces '{}', which is not in the vocabulary",
               base + k, merges[base + k].first, merges[base + k].second, joined[k]);
        merges_.insert(ids[2 * k], ids[2 * k + 1], {static_cast<int32_t>(base + k), merged[k]});
      }
    }
  }

  // Scores and mergeable flags by id; no merges list is built (see the top of this file).
  void set_scores(const std::vector<float>& scores, const std::vector<bool>& mergeable) {
    const size_t n = vocab_.tokens.size();
    scored_ = true;
    serial_ = next_model_serial.fetch_add(1, std::memory_order_relaxed);
    if (serial_ == 0) serial_ = next_model_serial.fetch_add(1, std::memory_order_relaxed);  // wrapped
    scores_.assign(n, 0.0f);
    std::copy_n(scores.begin(), std::min(n, scores.size()), scores_.begin());
    mergeable_.assign(n, false);
    for (size_t id = 0; id < std::min(n, mergeable.size()); ++id) mergeable_[id] = mergeable[id] && !vocab_.tokens[id].empty();
    if (vocab_.has_duplicates) resolve_duplicates();
  }

  const char* type_name() const noexcept override { return "BPE"; }

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override {
    if (word.empty()) return;
    if (opt_.ignore_merges) {
      const int32_t id = vocab_.find(word);
      if (id >= 0) {
        out.push_back(id);
        return;
      }
    }
    if (scored_) run<ScoreKey>(word, out);
    else run<RankKey>(word, out);
  }

 private:
  template <class Key>
  void run(std::string_view word, std::vector<int32_t>& out) const {
    thread_local std::vector<Symbol<Key>> syms;
    syms.clear();
    initial_symbols(word, syms);
    if (syms.size() > 1) {
      if (syms.size() <= heap_threshold) merge_scan(syms);
      else merge_heap(syms);
    }
    for (const Symbol<Key>& s : syms)
      if (s.alive) out.push_back(s.id);
  }

  template <class Key>
  static void push(std::vector<Symbol<Key>>& syms, int32_t id) {
    const auto n = static_cast<int32_t>(syms.size());
    syms.push_back({id, n - 1, -1, -1, Key{}, true});
    if (n > 0) syms[static_cast<size_t>(n - 1)].next = n;
  }

  // HF BPE::merge_word: one symbol per character, byte-fallback tokens or (fused) unk otherwise.
  template <class Key>
  void initial_symbols(std::string_view w, std::vector<Symbol<Key>>& syms) const {
    int32_t pending_unk = -1;  // an unk waiting to be emitted (fuse_unk joins consecutive ones)
    std::string s;
    for (size_t i = 0; i < w.size();) {
      const size_t start = i;
      const char32_t cp = next_cp(w, i);
      int32_t id = -1;
      if (simple_chars_ && cp < bmp_size) {
        id = bmp_ids_[cp];
      } else {
        s.clear();
        if (start > 0) s.append(opt_.continuing_subword_prefix);
        s.append(w.substr(start, i - start));
        if (i == w.size()) s.append(opt_.end_of_word_suffix);
        id = vocab_.find(s);
      }
      if (id >= 0) {
        if (pending_unk >= 0) { push(syms, pending_unk); pending_unk = -1; }
        push(syms, id);
        continue;
      }
      if (opt_.byte_fallback) {
        // With a prefix/suffix HF converts the decorated string's bytes; without, the character's.
        std::string_view bytes = w.substr(start, i - start);
        if (!simple_chars_ || cp >= bmp_size) bytes = s;
        bool all = true;
        for (unsigned char b : bytes) all = all && byte_ids_[b] >= 0;
        if (all) {
          for (unsigned char b : bytes) push(syms, byte_ids_[b]);
          continue;  // as in HF, a pending unk is not flushed here
        }
      }
      if (unk_id_ >= 0) {
        if (pending_unk >= 0 && !opt_.fuse_unk) push(syms, pending_unk);
        pending_unk = unk_id_;
      }
    }
    if (pending_unk >= 0) push(syms, pending_unk);
  }

  // The merge of the pair (a, b): its key and merged token, or false when there is none.
  bool find_pair(int32_t a, int32_t b, RankKey& key, int32_t& new_id) const noexcept {
    const Merge* m = merges_.find(a, b);
    if (!m) return false;
    key.rank = m->rank;
    new_id = m->id;
    return true;
  }

  bool find_pair(int32_t a, int32_t b, ScoreKey& key, int32_t& new_id) const {
    thread_local std::vector<PairCacheEntry> cache(pair_cache_size);
    const uint32_t h = (static_cast<uint32_t>(a) * 0x9E3779B1u) ^ (static_cast<uint32_t>(b) * 0x85EBCA77u);
    PairCacheEntry& e = cache[(h ^ (h >> 15)) & (pair_cache_size - 1)];
    if (e.model != serial_ || e.a != a || e.b != b) {
      e = {a, b, serial_, -1, ScoreKey{}};
      if (!find_scored_pair(a, b, e.key, e.new_id)) {
        e.new_id = -1;
        e.key = ScoreKey{};
      }
    }
    key = e.key;
    new_id = e.new_id;
    return e.new_id >= 0;
  }

  // The derived list holds (l, r) -> t for each mergeable token t and each split of t into two
  // vocabulary strings at a character boundary (l and r are the first ids of those strings).
  bool find_scored_pair(int32_t a, int32_t b, ScoreKey& key, int32_t& new_id) const {
    const std::string& l = vocab_.tokens[static_cast<size_t>(a)];
    const std::string& r = vocab_.tokens[static_cast<size_t>(b)];
    if (vocab_.has_duplicates && (vocab_.find(l) != a || vocab_.find(r) != b)) return false;
    thread_local std::string joined;
    joined.assign(l).append(r);
    int32_t t = vocab_.find(joined);
    if (t < 0) return false;
    if (vocab_.has_duplicates) {
      if (const auto it = duplicate_merge_.find(t); it != duplicate_merge_.end()) t = it->second;
    }
    if (t < 0 || !mergeable_[static_cast<size_t>(t)]) return false;
    bool l_exact = false, r_exact = false;
    const uint32_t l_chars = char_count(l, l_exact);
    const uint32_t r_chars = char_count(r, r_exact);
    if (!l_exact) return false;  // the split loop never stops inside l's last character
    key.hi = (static_cast<uint64_t>(descending_score_key(scores_[static_cast<size_t>(t)])) << 32) | ~l_chars;
    key.lo = (static_cast<uint64_t>(~r_chars) << 32) | static_cast<uint32_t>(t);
    new_id = t;
    return true;
  }

  // Several ids with one string: the derived list has one entry per id for the same pair, and
  // the last in its order (lowest score, then highest id) overwrites the others. Keyed by the
  // first id (what find returns); -1 when none of them is mergeable.
  void resolve_duplicates() {
    std::unordered_map<int32_t, int32_t> best;
    for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
      const std::string& t = vocab_.tokens[id];
      if (t.empty()) continue;
      const int32_t first = vocab_.find(t);
      if (first != static_cast<int32_t>(id)) best.emplace(first, -1);
    }
    for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
      if (vocab_.tokens[id].empty() || !mergeable_[id]) continue;
      const auto it = best.find(vocab_.find(vocab_.tokens[id]));
      if (it == best.end()) continue;
      if (it->second < 0 || !(scores_[id] > scores_[static_cast<size_t>(it->second)])) it->second = static_cast<int32_t>(id);
    }
    duplicate_merge_ = std::move(best);
  }

  template <class Key>
  void update_pair(std::vector<Symbol<Key>>& syms, int32_t i) const {
    Symbol<Key>& s = syms[static_cast<size_t>(i)];
    s.key = Key{};
    if (s.next < 0) return;
    if (!find_pair(s.id, syms[static_cast<size_t>(s.next)].id, s.key, s.new_id)) s.key = Key{};
  }

  template <class Key>
  static void merge_at(std::vector<Symbol<Key>>& syms, int32_t i, int32_t new_id) {
    Symbol<Key>& s = syms[static_cast<size_t>(i)];
    Symbol<Key>& r = syms[static_cast<size_t>(s.next)];
    s.id = new_id;
    r.alive = false;
    s.next = r.next;
    if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = i;
  }

  template <class Key>
  void merge_scan(std::vector<Symbol<Key>>& syms) const {
    const auto n = static_cast<int32_t>(syms.size());
    for (int32_t i = 0; i + 1 < n; ++i) update_pair(syms, i);
    for (;;) {
      Key best;
      int32_t at = -1;
      for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next)
        if (syms[static_cast<size_t>(i)].key < best) { best = syms[static_cast<size_t>(i)].key; at = i; }
      if (at < 0) return;
      merge_at(syms, at, syms[static_cast<size_t>(at)].new_id);
      update_pair(syms, at);
      if (syms[static_cast<size_t>(at)].prev >= 0) update_pair(syms, syms[static_cast<size_t>(at)].prev);
    }
  }

  // HF Word::merge_all: a queue ordered by (rank, position); stale entries are skipped. HF calls
  // an entry stale when the pair now at its position does not merge into the entry's token; the
  // pair at a position only ever grows (a longer string), so that is the case exactly when the
  // two ids there changed, which is what is checked (no second merge lookup).
  template <class Key>
  void merge_heap(std::vector<Symbol<Key>>& syms) const {
    struct Entry {
      Key key;
      int32_t pos, left, right;
      bool operator<(const Entry& o) const { return key != o.key ? o.key < key : pos > o.pos; }
    };
    std::priority_queue<Entry> queue;
    auto push_pair = [&](int32_t i) {
      const Symbol<Key>& s = syms[static_cast<size_t>(i)];
      if (!s.key.none()) queue.push({s.key, i, s.id, syms[static_cast<size_t>(s.next)].id});
    };
    const auto n = static_cast<int32_t>(syms.size());
    for (int32_t i = 0; i + 1 < n; ++i) {
      update_pair(syms, i);
      push_pair(i);
    }
    while (!queue.empty()) {
      const Entry top = queue.top();
      queue.pop();
      Symbol<Key>& s = syms[static_cast<size_t>(top.pos)];
      if (!s.alive || s.next < 0 || s.id != top.left || syms[static_cast<size_t>(s.next)].id != top.right) continue;
      merge_at(syms, top.pos, s.new_id);
      if (s.prev >= 0) {
        update_pair(syms, s.prev);
        push_pair(s.prev);
      }
      update_pair(syms, top.pos);
      push_pair(top.pos);
    }
  }

  BpeOptions opt_;
  PairMap merges_;
  bool scored_ = false;  // pairs ranked from scores_ instead of merges_
  uint32_t serial_ = 0;  // names this model in the per-thread pair cache
  std::vector<float> scores_;
  std::vector<bool> mergeable_;
  std::unordered_map<int32_t, int32_t> duplicate_merge_;  // see resolve_duplicates
  int32_t unk_id_ = -1;
  int32_t byte_ids_[256];
  bool simple_chars_ = true;
  std::vector<int32_t> bmp_ids_;  // single-character tokens of the Basic Multilingual Plane
};

}  // namespace

ModelPtr make_bpe_model(std::vector<std::string> tokens,
                        const std::vector<std::pair<std::string_view, std::string_view>>& merges, BpeOptions options) {
  auto m = std::make_unique<BpeModel>(std::move(tokens), std::move(options));
  m->set_merges(merges);
  return m;
}

ModelPtr make_bpe_model_from_scores(std::vector<std::string> tokens, const std::vector<float>& scores,
                                    const std::vector<bool>& mergeable, BpeOptions options) {
  auto m = std::make_unique<BpeModel>(std::move(tokens), std::move(options));
  m->set_scores(scores, mergeable);
  return m;
}

}  // namespace ollm::tok
