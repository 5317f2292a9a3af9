// Tokenizer behaviour beyond the goldens: the streaming detokenizer, invalid UTF-8 input,
// vocabulary queries, GGUF-less errors and load failures (code and message), and SentencePiece
// BPE by score against the merges list HF derives from the scores.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "ollm/tokenizer.hpp"
#include "tokenizer/model.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer_test_support.hpp"

namespace {

const ollm::Tokenizer& load(const std::string& name) {
  static std::map<std::string, ollm::Tokenizer> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, ollm::Tokenizer::from_json_files(ollm_test::tokenizer_json_path(name))).first;
  return it->second;
}

template <class F>
ollm::Error error_of(F&& f) {
  try {
    f();
  } catch (const ollm::Error& e) {
    return e;
  }
  FAIL("no ollm::Error thrown");
  return ollm::Error(ollm::ErrorCode::ok, "");
}

bool valid_utf8(const std::string& s) { return ollm::tok::valid_utf8_prefix(s) == s.size(); }

}  // namespace

TEST_CASE("streaming detokenizer: complete UTF-8 pieces whose concatenation equals decode") {
  const auto texts = ollm_test::golden_texts();
  for (const char* name : {"llama3", "qwen3", "gemma3", "sentencepiece-32k", "minilm"}) {
    CAPTURE(name);
    const auto& tok = load(name);
    for (bool skip : {false, true}) {
      size_t bad = 0;
      for (size_t i = 0; i < texts.size(); i += 3) {
        const auto ids = tok.encode(texts[i], true, true);
        ollm::StreamingDetokenizer stream(tok, skip);
        std::string joined;
        bool pieces_valid = true;
        for (int32_t id : ids) {
          const std::string piece = stream.step(id);
          pieces_valid = pieces_valid && valid_utf8(piece);
          joined += piece;
        }
        joined += stream.finish();
        if ((joined != tok.decode(ids, skip) || !pieces_valid) && ++bad <= 3)
          MESSAGE(name << " case " << i << " skip=" << skip << ": stream '" << joined << "' decode '" << tok.decode(ids, skip) << "'");
      }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("streaming detokenizer: a character split over byte tokens is emitted once complete") {
  const auto& tok = load("llama3");
  const auto ids = tok.encode("é👍🏽", false);  // multi-byte characters over several byte-level tokens
  ollm::StreamingDetokenizer stream(tok);
  std::string out;
  for (int32_t id : ids) {
    const std::string piece = stream.step(id);
    CHECK(valid_utf8(piece));
    out += piece;
  }
  out += stream.finish();
  CHECK(out == "é👍🏽");

  // Byte-fallback tokens of sentencepiece: "<0xE2><0x82>" alone is incomplete -> held, then U+FFFD.
  const auto& spm = load("sentencepiece-32k");
  ollm::StreamingDetokenizer s2(spm);
  const int32_t e2 = *spm.token_to_id("<0xE2>"), x82 = *spm.token_to_id("<0x82>");
  CHECK(s2.step(e2).empty());
  CHECK(s2.step(x82).empty());
  const std::vector<int32_t> both{e2, x82};
  CHECK(s2.finish() == spm.decode(both));
}

TEST_CASE("invalid UTF-8 input is replaced by U+FFFD before encoding, never a crash") {
  const auto& tok = load("llama3");
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(tok.encode("a\xFF" "b", false) == tok.encode("a" + fffd + "b", false));
  // A truncated sequence is one maximal invalid subpart: one replacement character.
  CHECK(tok.encode("x\xE2\x82", false) == tok.encode("x" + fffd, false));
  CHECK(tok.encode("\xC0\xAF", false) == tok.encode(fffd + fffd, false));
  CHECK(tok.encode("\xED\xA0\x80", false) == tok.encode(fffd + fffd + fffd, false));  // a surrogate
  for (const char* name : {"gemma3", "minilm", "qwen3"}) {
    const std::string junk("\x80\xBF\xFE\xF4\x90\x80\x80 ok \xF0\x9F\x98", 15);
    CHECK_NOTHROW(load(name).encode(junk));
    CHECK(valid_utf8(load(name).decode(load(name).encode(junk))));
  }
}

TEST_CASE("vocabulary queries") {
  const auto llama = ollm::Tokenizer::from_json_files(ollm_test::tokenizer_json_path("llama3"),
                                                     ollm_test::tokenizer_data_dir() / "llama3/tokenizer_config.json");
  CHECK(llama.vocab_size() == 128256);
  CHECK(llama.token_to_id("<|eot_id|>") == 128009);
  CHECK(llama.id_to_token(128009) == "<|eot_id|>");
  CHECK(llama.is_special(128009));
  CHECK_FALSE(llama.is_special(15339));
  CHECK(llama.bos_id() == 128000);
  CHECK(llama.eos_id() == 128001);
  CHECK(llama.eot_id() == 128009);
  CHECK(llama.id_to_token(-1).empty());
  CHECK(llama.id_to_token(1 << 30).empty());
  CHECK(llama.model_type() == "BPE");
  const std::vector<int32_t> out_of_range{-5, 999999999, 9906};
  CHECK(llama.decode(out_of_range) == llama.decode(std::vector<int32_t>{9906}));

  const auto& minilm = load("minilm");
  CHECK(minilm.model_type() == "WordPiece");
  CHECK(minilm.encode("hello") == std::vector<int32_t>{101, 7592, 102});
}

TEST_CASE("load errors carry a code and a message naming what and where") {
  auto e = error_of([] { ollm::Tokenizer::from_json_files("/nonexistent/tokenizer.json"); });
  CHECK(e.code() == ollm::ErrorCode::not_found);
  CHECK(std::string(e.what()) == "[tokenizer] tokenizer.json '/nonexistent/tokenizer.json' does not exist");

  e = error_of([] { ollm::Tokenizer::from_json("{\"model\": [1, 2", {}, "bad.json"); });
  CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
  CHECK(std::string(e.what()).starts_with("[tokenizer] bad.json: invalid JSON"));

  e = error_of([] { ollm::Tokenizer::from_json(R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})", {}, "t.json"); });
  CHECK(e.code() == ollm::ErrorCode::unsupported);
  CHECK(std::string(e.what()) == "[tokenizer] t.json: model type 'Unigram' is not supported");

  e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                                  "normalizer": {"type": "Fancy"}})", {}, "t.json");
  });
  CHECK(e.code() == ollm::ErrorCode::unsupported);
  CHECK(std::string(e.what()) == "[tokenizer] t.json: normalizer type 'Fancy' is not supported");

  e = error_of([] { ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", {}, "t.json"); });
  CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
  CHECK(std::string(e.what()) == "[tokenizer] t.json: BPE merge 0 ('a' 'b') uses a token missing from the vocabulary");

  e = error_of([] { ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": -3}}})", {}, "t.json"); });
  CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
  CHECK(std::string(e.what()) == "[tokenizer] t.json: model.vocab value is -3, outside the token id range");

  e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}},
                                  "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"}})", {}, "t.json");
  });
  CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
  CHECK(std::string(e.what()).starts_with("[tokenizer] t.json: Split pre-tokenizer: invalid regex '(a' at offset 2"));

  e = error_of([] { ollm::Tokenizer::from_json(R"([1, 2])", {}, "t.json"); });
  CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
  CHECK(std::string(e.what()) == "[tokenizer] t.json: the top level must be an object");
}

TEST_CASE("a minimal in-memory tokenizer.json works end to end") {
  const auto tok = ollm::Tokenizer::from_json(R"({
    "added_tokens": [{"id": 3, "content": "<s>", "special": true, "lstrip": false, "rstrip": false,
                      "normalized": false, "single_word": false}],
    "normalizer": {"type": "Lowercase"},
    "pre_tokenizer": {"type": "WhitespaceSplit"},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [3], "tokens": ["<s>"]}}},
    "decoder": {"type": "Fuse"},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})");
  CHECK(tok.encode("AB ba<s>") == std::vector<int32_t>{3, 2, 1, 0, 3});
  CHECK(tok.encode("AB", false) == std::vector<int32_t>{2});
  CHECK(tok.encode("<s>", false, false) == std::vector<int32_t>{});  // '<', 's', '>' are not in this vocabulary
  CHECK(tok.decode(std::vector<int32_t>{3, 2, 1}, true) == "abb");
}

// ---------------------------------------------------------------------------------------------
// SentencePiece BPE by score (GGUF "llama"). ollm ranks each pair when it sees it instead of
// deriving HF's merges list; the reference below derives that list as HF's SentencePieceExtractor
// does (what ollm did at load time before, checked against the Gemma goldens) and runs plain BPE
// on it. Random small vocabularies stress what the goldens cannot: equal scores, a string under
// several ids, non-mergeable tokens, pairs that overlap (ab|aba|ba), byte fallback, long words.
namespace {

struct ScoredVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<bool> mergeable;
  std::vector<int32_t> types;  // GGUF token types
};

class ReferenceSpmBpe {
 public:
  explicit ReferenceSpmBpe(const ScoredVocab& v) : v_(v) {
    for (size_t id = 0; id < v.tokens.size(); ++id)
      if (!v.tokens[id].empty()) first_.emplace(v.tokens[id], static_cast<int32_t>(id));
    struct Candidate {
      float score;
      int32_t len_l, len_r, merged, left, right;
    };
    std::vector<Candidate> cands;
    for (size_t id = 0; id < v.tokens.size(); ++id) {
      const std::string& t = v.tokens[id];
      if (!v.mergeable[id] || t.empty()) continue;
      int32_t total = 0, left_chars = 0;
      for (size_t i = 0; i < t.size(); i += ollm::tok::utf8_len(static_cast<unsigned char>(t[i]))) ++total;
      for (size_t k = ollm::tok::utf8_len(static_cast<unsigned char>(t[0])); k < t.size();
           k += ollm::tok::utf8_len(static_cast<unsigned char>(t[k]))) {
        ++left_chars;
        const int32_t l = first(t.substr(0, k)), r = first(t.substr(k));
        if (l >= 0 && r >= 0) cands.push_back({v.scores[id], left_chars, total - left_chars, static_cast<int32_t>(id), l, r});
      }
    }
    std::sort(cands.begin(), cands.end(), [](const Candidate& x, const Candidate& y) {
      if (x.score != y.score) return x.score > y.score;
      if (x.len_l != y.len_l) return x.len_l > y.len_l;
      if (x.len_r != y.len_r) return x.len_r > y.len_r;
      if (x.merged != y.merged) return x.merged < y.merged;
      if (x.left != y.left) return x.left < y.left;
      return x.right < y.right;
    });
    for (size_t rank = 0; rank < cands.size(); ++rank)
      merges_[{cands[rank].left, cands[rank].right}] = {static_cast<int64_t>(rank), cands[rank].merged};
  }

  // One character per symbol (byte tokens when the character is not in the vocabulary), then the
  // lowest-ranked adjacent pair merges, the leftmost on ties, until none is left.
  std::vector<int32_t> encode(std::string_view word) const {
    std::vector<int32_t> syms;
    for (size_t i = 0; i < word.size();) {
      const size_t start = i;
      ollm::tok::next_cp(word, i);
      const std::string_view c = word.substr(start, i - start);
      if (const int32_t id = first(c); id >= 0) {
        syms.push_back(id);
        continue;
      }
      for (unsigned char b : c) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        syms.push_back(first(name));
      }
    }
    constexpr int64_t none = INT64_MAX;
    auto rank_at = [&](size_t i) {
      const auto it = merges_.find({syms[i], syms[i + 1]});
      return it == merges_.end() ? none : it->second.first;
    };
    std::vector<int64_t> ranks;
    for (size_t i = 0; i + 1 < syms.size(); ++i) ranks.push_back(rank_at(i));
    for (;;) {
      const auto best = std::min_element(ranks.begin(), ranks.end());
      if (best == ranks.end() || *best == none) return syms;
      const auto i = static_cast<size_t>(best - ranks.begin());
      syms[i] = merges_.at({syms[i], syms[i + 1]}).second;
      syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      ranks.erase(ranks.begin() + static_cast<std::ptrdiff_t>(i));
      if (i + 1 < syms.size()) ranks[i] = rank_at(i);
      if (i > 0) ranks[i - 1] = rank_at(i - 1);
    }
  }

 private:
  int32_t first(std::string_view s) const {
    const auto it = first_.find(std::string(s));
    return it == first_.end() ? -1 : it->second;
  }
  struct PairHash {
    size_t operator()(const std::pair<int32_t, int32_t>& p) const {
      return std::hash<int64_t>()((static_cast<int64_t>(p.first) << 32) ^ p.second);
    }
  };
  const ScoredVocab& v_;
  std::unordered_map<std::string, int32_t> first_;
  std::unordered_map<std::pair<int32_t, int32_t>, std::pair<int64_t, int32_t>, PairHash> merges_;
};

const std::vector<std::string> spm_chars = {"a", "b", "c", "\xE2\x96\x81", "\xC3\xA9", "\xF0\x9D\x95\x8F"};  // a b c ▁ é 𝕏

// <unk>, <s>, </s>, 256 byte tokens, the characters (some missing: byte fallback), then random
// pieces of 2-6 characters with scores from a small set (many ties), some repeated strings and
// some not mergeable (control/unused pieces whose strings are also pieces).
ScoredVocab random_scored_vocab(std::mt19937& rng, bool allow_duplicates) {
  ScoredVocab v;
  auto add = [&](std::string s, float score, int32_t type) {
    v.tokens.push_back(std::move(s));
    v.scores.push_back(score);
    v.types.push_back(type);
    v.mergeable.push_back(type == 1 || type == 4);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0, 6);
  }
  const float score_set[] = {0.0f, -0.0f, -1.0f, -1.0f, -2.0f, -2.5f, -3.0f, -7.0f};
  auto score = [&] {
    return rng() % 3 == 0 ? score_set[rng() % 8] : -static_cast<float>(rng() % 400) / 4.0f;
  };
  for (const std::string& c : spm_chars)
    if (c == "a" || c == "b" || rng() % 5 != 0) add(c, score(), 1);
  if (rng() % 2) {
    for (const char* s : {"ab", "ba", "aba", "abab", "ababa", "babab"}) add(s, score(), 1);
  }
  if (rng() % 3 == 0) add("<0x7A><0x7A>", score(), 1);  // merges two byte-fallback symbols of "z"
  const size_t n = 20 + rng() % 150;
  const size_t first_piece = v.tokens.size();
  for (size_t k = 0; k < n; ++k) {
    std::string s;
    if (allow_duplicates && k > 0 && rng() % 8 == 0) {
      s = v.tokens[first_piece + rng() % k];
    } else {
      const size_t len = 2 + rng() % 5;
      for (size_t c = 0; c < len; ++c) s += spm_chars[rng() % (rng() % 2 ? 3 : spm_chars.size())];
    }
    const int32_t type = !allow_duplicates ? 1 : rng() % 7 == 0 ? 3 : rng() % 9 == 0 ? 4 : 1;
    add(std::move(s), score(), type);
  }
  return v;
}

std::string random_spm_word(std::mt19937& rng, size_t len) {
  std::string w;
  for (size_t i = 0; i < len; ++i) w += rng() % 40 == 0 ? "z" : spm_chars[rng() % (rng() % 3 ? 3 : spm_chars.size())];
  return w;
}

std::string show_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

}  // namespace

TEST_CASE("tokenizer: SentencePiece BPE by score encodes as the merges HF derives from the scores") {
  std::mt19937 rng(20261123);
  size_t words = 0, bad = 0;
  for (int round = 0; round < 150; ++round) {
    const ScoredVocab v = random_scored_vocab(rng, round % 2 == 1);
    const ReferenceSpmBpe ref(v);
    ollm::tok::BpeOptions opt;
    opt.byte_fallback = true;
    opt.fuse_unk = true;
    opt.unk_token = "<unk>";
    const auto model = ollm::tok::make_bpe_model_from_scores(v.tokens, v.scores, v.mergeable, opt);
    for (int k = 0; k < 40; ++k) {
      // Up to 96 symbols the model scans, above it uses a heap: both are covered.
      const size_t len = k % 8 == 7 ? 97 + rng() % 250 : 1 + rng() % 40;
      const std::string w = random_spm_word(rng, len);
      std::vector<int32_t> got;
      model->tokenize(w, got);
      const auto want = ref.encode(w);
      ++words;
      if (got != want && ++bad <= 5) MESSAGE("round " << round << " word '" << w << "'\n  want " << show_ids(want) << "\n  got  " << show_ids(got));
    }
  }
  MESSAGE(words << " words, " << bad << " mismatches");
  CHECK(bad == 0);
}

TEST_CASE("a GGUF SentencePiece vocabulary encodes text through normalizer and scores") {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    const ScoredVocab v = random_scored_vocab(rng, false);
    ollm::GgufWriter w;
    w.set("general.architecture", "llama");
    w.set("tokenizer.ggml.model", "llama");
    w.set("tokenizer.ggml.tokens", ollm::GgufArray{v.tokens});
    w.set("tokenizer.ggml.scores", ollm::GgufArray{v.scores});
    w.set("tokenizer.ggml.token_type", ollm::GgufArray{v.types});
    w.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
    w.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    w.set("tokenizer.ggml.eos_token_id", uint32_t{2});
    const std::vector<uint8_t> bytes = w.to_bytes();
    const auto tok = ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "scored.gguf"));
    const ReferenceSpmBpe ref(v);
    for (int k = 0; k < 20; ++k) {
      std::string text = random_spm_word(rng, 1 + rng() % 12);
      for (int extra = static_cast<int>(rng() % 4); extra > 0; --extra) text += " " + random_spm_word(rng, 1 + rng() % 12);
      // Prepend U+2581 and replace spaces with it, then BPE over the whole text (no pre-tokenizer).
      std::string normalized = "\xE2\x96\x81";
      for (char c : text) normalized += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
      std::vector<int32_t> want{1};
      for (int32_t id : ref.encode(normalized)) want.push_back(id);
      CHECK_MESSAGE(tok.encode(text) == want, "text '" << text << "'");
    }
  }
}

TEST_CASE("tokenizer.json: an id given to two tokens is refused naming both, never blamed on a merge") {
  auto e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0, "c": 1}, "merges": []}})", {}, "t.json");
  });
  CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
  CHECK(std::string(e.what()) == "[tokenizer] t.json: model.vocab gives id 0 to both 'a' and 'b'");
  // With a merge over the lost token, the duplicate is still what is reported.
  e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0, "ab": 1}, "merges": ["a b"]}})", {},
                               "t.json");
  });
  CHECK(std::string(e.what()) == "[tokenizer] t.json: model.vocab gives id 0 to both 'a' and 'b'");
  e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "x\n": 1, "y": 1}}})", {}, "t.json");
  });
  CHECK(std::string(e.what()) == "[tokenizer] t.json: model.vocab gives id 1 to both 'x\\n' and 'y'");
  // One token listed twice (JSON allows the repeat; HF keeps one of them).
  e = error_of([] { ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "a": 1}, "merges": []}})", {}, "t.json"); });
  CHECK(std::string(e.what()) == "[tokenizer] t.json: model.vocab lists 'a' twice (ids 0 and 1)");
  // added_tokens giving one id two different contents.
  e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []},
      "added_tokens": [{"id": 2, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}]})", {}, "t.json");
  });
  CHECK(std::string(e.what()) == "[tokenizer] t.json: added_tokens give id 2 to both '<s>' and '</s>'");
  // A post-processor id outside the vocabulary would reach the model's embedding table.
  e = error_of([] {
    ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []},
      "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
        {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [7], "tokens": ["<s>"]}}}})",
                               {}, "t.json");
  });
  CHECK(std::string(e.what()) == "[tokenizer] t.json: post_processor adds token id 7, which is not in the vocabulary of 2 tokens");
  // The fixed vocabulary encodes every character.
  const auto tok = ollm::Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2, "c": 1}, "merges": []}})");
  CHECK(tok.encode("abc", false) == std::vector<int32_t>{0, 2, 1});
}

TEST_CASE("GGUF special token ids past the vocabulary are refused naming the key") {
  auto vocab = [](const char* key, ollm::GgufValue id) {
    ollm::GgufWriter w;
    w.set("general.architecture", "llama");
    w.set("tokenizer.ggml.model", "llama");
    w.set("tokenizer.ggml.tokens", ollm::GgufArray{std::vector<std::string>{"<unk>", "<s>", "</s>", "a"}});
    w.set("tokenizer.ggml.scores", ollm::GgufArray{std::vector<float>{0, 0, 0, -1}});
    w.set("tokenizer.ggml.token_type", ollm::GgufArray{std::vector<int32_t>{2, 3, 3, 1}});
    w.set(key, std::move(id));
    return w.to_bytes();
  };
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
                          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.fim_pre_token_id"}) {
    CAPTURE(key);
    const auto bytes = vocab(key, uint32_t{4});
    const auto e = error_of([&] { ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "v.gguf")); });
    CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
    CHECK(std::string(e.what()) == fmt::format("[tokenizer] GGUF {} is 4, outside the vocabulary of 4 tokens", key));
  }
  auto bytes = vocab("tokenizer.ggml.bos_token_id", int32_t{-7});
  auto e = error_of([&] { ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "v.gguf")); });
  CHECK(std::string(e.what()) == "[tokenizer] GGUF tokenizer.ggml.bos_token_id is -7, outside the vocabulary of 4 tokens");
  bytes = vocab("tokenizer.ggml.bos_token_id", "1");
  e = error_of([&] { ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "v.gguf")); });
  CHECK(std::string(e.what()) == "[gguf] 'tokenizer.ggml.bos_token_id' is string, expected an integer");
  // -1 (and its uint32 spelling, llama.cpp's LLAMA_TOKEN_NULL) means "no such token".
  for (const ollm::GgufValue none : {ollm::GgufValue(int32_t{-1}), ollm::GgufValue(uint32_t{0xFFFFFFFF})}) {
    bytes = vocab("tokenizer.ggml.bos_token_id", none);
    const auto tok = ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "v.gguf"));
    CHECK_FALSE(tok.bos_id().has_value());
  }
  bytes = vocab("tokenizer.ggml.bos_token_id", uint32_t{1});
  CHECK(ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "v.gguf")).bos_id() == 1);
}

TEST_CASE("tokenizer paths of the wrong type are named as what they are, and never block") {
  const auto dir = std::filesystem::path(OLLM_BUILD_DIR) / "test_tokenizer_scratch";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "tokenizer.json");
  // A directory: once "basic_string::_M_create" (the size of a directory read as -1).
  auto e = error_of([&] { ollm::Tokenizer::from_json_files(dir / "tokenizer.json"); });
  CHECK(e.code() == ollm::ErrorCode::io);
  CHECK(std::string(e.what()) == fmt::format("[tokenizer] '{}' is a directory, not a regular file", (dir / "tokenizer.json").string()));
  // A FIFO: opening it for reading would wait for a writer forever.
  REQUIRE(::mkfifo((dir / "fifo.json").c_str(), 0600) == 0);
  e = error_of([&] { ollm::Tokenizer::from_json_files(dir / "fifo.json"); });
  CHECK(std::string(e.what()) == fmt::format("[tokenizer] '{}' is a FIFO, not a regular file", (dir / "fifo.json").string()));
  std::ofstream(dir / "ok.json") << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})";
  e = error_of([&] { ollm::Tokenizer::from_json_files(dir / "ok.json", dir / "fifo.json"); });
  CHECK(std::string(e.what()) == fmt::format("[tokenizer] '{}' is a FIFO, not a regular file", (dir / "fifo.json").string()));
  // A symbolic link loop is there, just unreadable: not "does not exist".
  std::filesystem::create_symlink(dir / "loop.json", dir / "loop.json");
  e = error_of([&] { ollm::Tokenizer::from_json_files(dir / "loop.json"); });
  CHECK(std::string(e.what()) ==
        fmt::format("[tokenizer] cannot open '{}': Too many levels of symbolic links", (dir / "loop.json").string()));
}
