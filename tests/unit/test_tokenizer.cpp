// Tokenizer behaviour beyond the goldens: the streaming detokenizer, invalid UTF-8 input,
// vocabulary queries, GGUF-less errors and load failures (code and message).
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "ollm/error.hpp"
#include "ollm/tokenizer.hpp"
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
