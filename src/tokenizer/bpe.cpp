// Byte-pair encoding as HF `tokenizers` runs it: characters (or byte-fallback tokens) become
// symbols, then the adjacent pair with the lowest merge rank (leftmost on ties) merges until none
// is left. Short words scan cached pair ranks; long ones (a whole Gemma text) use a heap.
#include <algorithm>
#include <climits>
#include <queue>

#include "tokenizer/model.hpp"
#include "tokenizer/unicode.hpp"
#include "util/fail.hpp"

namespace ollm::tok {

void Vocab::build(std::vector<std::pair<std::string, int32_t>>&& entries) {
  int32_t max_id = -1;
  for (const auto& [str, id] : entries) {
    if (id < 0) fail(ErrorCode::invalid_model_file, "[tokenizer] negative token id {} for '{}'", id, str);
    max_id = std::max(max_id, id);
  }
  tokens.assign(static_cast<size_t>(max_id + 1), std::string{});
  for (auto& [str, id] : entries) tokens[static_cast<size_t>(id)] = std::move(str);
  index.insert_all(tokens);
}

namespace {

constexpr size_t heap_threshold = 96;  // symbols; above this the O(n^2) scan loses to the heap
constexpr size_t bmp_size = 0x10000;

struct Symbol {
  int32_t id;
  int32_t prev, next;
  int32_t rank;     // of the pair (this, next); INT_MAX when none
  int32_t new_id;   // what that pair merges into
  bool alive;
};

class BpeModel final : public Model {
 public:
  BpeModel(std::vector<std::pair<std::string, int32_t>> vocab, BpeOptions options) : opt_(std::move(options)) {
    vocab_.build(std::move(vocab));
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

  void set_merges_from_scores(const std::vector<float>& scores, const std::vector<bool>& mergeable) {
    struct Candidate {
      float score;
      int32_t len_l, len_r, merged, left, right;
    };
    std::vector<Candidate> cands;
    const auto& toks = vocab_.tokens;
    for (size_t id = 0; id < toks.size(); ++id) {
      if (id >= mergeable.size() || !mergeable[id] || toks[id].empty()) continue;
      const std::string_view t = toks[id];
      int32_t chars_left = 0;
      int32_t total_chars = 0;
      for (size_t i = 0; i < t.size(); i += utf8_len(static_cast<unsigned char>(t[i]))) ++total_chars;
      for (size_t k = utf8_len(static_cast<unsigned char>(t[0])); k < t.size(); k += utf8_len(static_cast<unsigned char>(t[k]))) {
        ++chars_left;
        const int32_t l = vocab_.find(t.substr(0, k)), r = vocab_.find(t.substr(k));
        if (l >= 0 && r >= 0)
          cands.push_back({id < scores.size() ? scores[id] : 0.0f, chars_left, total_chars - chars_left,
                           static_cast<int32_t>(id), l, r});
      }
    }
    // HF's SentencePieceExtractor: sort by (score, len(left), len(right)) descending, stable over
    // (merged id, left id, right id) ascending.
    std::sort(cands.begin(), cands.end(), [](const Candidate& x, const Candidate& y) {
      if (x.score != y.score) return x.score > y.score;
      if (x.len_l != y.len_l) return x.len_l > y.len_l;
      if (x.len_r != y.len_r) return x.len_r > y.len_r;
      if (x.merged != y.merged) return x.merged < y.merged;
      if (x.left != y.left) return x.left < y.left;
      return x.right < y.right;
    });
    merges_.reserve(cands.size());
    for (size_t rank = 0; rank < cands.size(); ++rank)
      merges_.insert(cands[rank].left, cands[rank].right, {static_cast<int32_t>(rank), cands[rank].merged});
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
    thread_local std::vector<Symbol> syms;
    syms.clear();
    initial_symbols(word, syms);
    if (syms.size() > 1) {
      if (syms.size() <= heap_threshold) merge_scan(syms);
      else merge_heap(syms);
    }
    for (const Symbol& s : syms)
      if (s.alive) out.push_back(s.id);
  }

 private:
  void push(std::vector<Symbol>& syms, int32_t id) const {
    const auto n = static_cast<int32_t>(syms.size());
    syms.push_back({id, n - 1, -1, INT_MAX, -1, true});
    if (n > 0) syms[static_cast<size_t>(n - 1)].next = n;
  }

  // HF BPE::merge_word: one symbol per character, byte-fallback tokens or (fused) unk otherwise.
  void initial_symbols(std::string_view w, std::vector<Symbol>& syms) const {
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

  void update_pair(std::vector<Symbol>& syms, int32_t i) const {
    Symbol& s = syms[static_cast<size_t>(i)];
    s.rank = INT_MAX;
    if (s.next < 0) return;
    if (const Merge* m = merges_.find(s.id, syms[static_cast<size_t>(s.next)].id)) {
      s.rank = m->rank;
      s.new_id = m->id;
    }
  }

  static void merge_at(std::vector<Symbol>& syms, int32_t i, int32_t new_id) {
    Symbol& s = syms[static_cast<size_t>(i)];
    Symbol& r = syms[static_cast<size_t>(s.next)];
    s.id = new_id;
    r.alive = false;
    s.next = r.next;
    if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = i;
  }

  void merge_scan(std::vector<Symbol>& syms) const {
    const auto n = static_cast<int32_t>(syms.size());
    for (int32_t i = 0; i + 1 < n; ++i) update_pair(syms, i);
    for (;;) {
      int32_t best = INT_MAX, at = -1;
      for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next)
        if (syms[static_cast<size_t>(i)].rank < best) { best = syms[static_cast<size_t>(i)].rank; at = i; }
      if (at < 0) return;
      merge_at(syms, at, syms[static_cast<size_t>(at)].new_id);
      update_pair(syms, at);
      if (syms[static_cast<size_t>(at)].prev >= 0) update_pair(syms, syms[static_cast<size_t>(at)].prev);
    }
  }

  // HF Word::merge_all: a queue ordered by (rank, position); stale entries are skipped.
  void merge_heap(std::vector<Symbol>& syms) const {
    struct Entry {
      int32_t rank, pos, new_id;
      bool operator<(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Entry> queue;
    const auto n = static_cast<int32_t>(syms.size());
    for (int32_t i = 0; i + 1 < n; ++i) {
      update_pair(syms, i);
      if (syms[static_cast<size_t>(i)].rank != INT_MAX)
        queue.push({syms[static_cast<size_t>(i)].rank, i, syms[static_cast<size_t>(i)].new_id});
    }
    while (!queue.empty()) {
      const Entry top = queue.top();
      queue.pop();
      Symbol& s = syms[static_cast<size_t>(top.pos)];
      if (!s.alive || s.next < 0) continue;
      const Merge* m = merges_.find(s.id, syms[static_cast<size_t>(s.next)].id);
      if (!m || m->id != top.new_id) continue;
      merge_at(syms, top.pos, top.new_id);
      if (s.prev >= 0) {
        update_pair(syms, s.prev);
        const Symbol& p = syms[static_cast<size_t>(s.prev)];
        if (p.rank != INT_MAX) queue.push({p.rank, s.prev, p.new_id});
      }
      update_pair(syms, top.pos);
      if (s.rank != INT_MAX) queue.push({s.rank, top.pos, s.new_id});
    }
  }

  BpeOptions opt_;
  PairMap merges_;
  int32_t unk_id_ = -1;
  int32_t byte_ids_[256];
  bool simple_chars_ = true;
  std::vector<int32_t> bmp_ids_;  // single-character tokens of the Basic Multilingual Plane
};

}  // namespace

ModelPtr make_bpe_model(std::vector<std::pair<std::string, int32_t>> vocab,
                        const std::vector<std::pair<std::string_view, std::string_view>>& merges, BpeOptions options) {
  auto m = std::make_unique<BpeModel>(std::move(vocab), std::move(options));
  m->set_merges(merges);
  return m;
}

ModelPtr make_bpe_model_from_scores(std::vector<std::pair<std::string, int32_t>> vocab, const std::vector<float>& scores,
                                    const std::vector<bool>& mergeable, BpeOptions options) {
  auto m = std::make_unique<BpeModel>(std::move(vocab), std::move(options));
  m->set_merges_from_scores(scores, mergeable);
  return m;
}

}  // namespace ollm::tok
