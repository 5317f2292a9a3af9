// GGUF byte-level BPE vocabularies (tokenizer.ggml.model "gpt2") for every tokenizer.ggml.pre name
// llama.cpp writes. Three references, all from Hugging Face `tokenizers`
// (scripts/reference/make_gguf_pre_tokenizer_goldens.py, tests/data/tokenizers/gguf_pre.tar.xz):
//  - every name's regex splits against HF's own Split pre-tokenizers over a stress corpus;
//  - vocabulary-only GGUFs made at test time from the real tokenizer.json files (llama3 -> llama-bpe,
//    qwen3 -> qwen2, deepseek-v3, gpt-oss -> gpt-4o) must encode the tokenizer goldens' texts to
//    the ids HF gave for the tokenizer.json;
//  - SmolLM2-135M-Instruct's own vocabulary (pre "smollm") against HF with its pipeline.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "ollm/model_spec.hpp"
#include "ollm/tokenizer.hpp"
#include "tokenizer/gguf_pre_tokenizers.hpp"
#include "tokenizer_test_support.hpp"

namespace {

namespace fs = std::filesystem;

fs::path gguf_pre_dir() { return ollm_test::tokenizer_data_dir() / "gguf_pre"; }

// By value: a range-for over `x.get_array().value()` would iterate a reference into a destroyed
// temporary (simdjson_result::value() && returns T&&).
template <class T>
simdjson::dom::array array_of(T&& x) { return simdjson::dom::array(std::forward<T>(x).get_array().value()); }
template <class T>
simdjson::dom::object object_of(T&& x) { return simdjson::dom::object(std::forward<T>(x).get_object().value()); }

std::string show(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20) out += fmt::format("\\x{:02x}", c);
    else out.push_back(static_cast<char>(c));
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

// Byte offsets where the pieces of `text` end after the spec's regex splits.
std::vector<int64_t> split_ends(const ollm::tok::PreTokenizer& pt, std::string_view text) {
  ollm::tok::PieceList list;
  list.arena.assign(text);
  list.pieces.push_back({0, static_cast<uint32_t>(text.size()), true});
  pt.pre_tokenize(list);
  std::vector<int64_t> ends;
  for (const auto& p : list.pieces) ends.push_back(p.offset + p.length);
  return ends;
}

struct SplitGolden {
  std::vector<std::string> texts;
  struct Family {
    std::string family;
    std::vector<std::string> names, regexes;
    std::vector<std::vector<int64_t>> ends;
  };
  std::vector<Family> families;
};

SplitGolden read_split_golden() {
  SplitGolden g;
  simdjson::dom::parser parser;
  const std::string json = ollm_test::read_text_file(gguf_pre_dir() / "splits.json");
  REQUIRE_MESSAGE(!json.empty(), "missing " << (gguf_pre_dir() / "splits.json").string());
  simdjson::dom::element doc = parser.parse(json).value();
  for (std::string_view t : array_of(doc["texts"])) g.texts.emplace_back(t);
  for (simdjson::dom::element f : array_of(doc["families"])) {
    SplitGolden::Family fam;
    fam.family = std::string(f["family"].get_string().value());
    for (std::string_view n : array_of(f["names"])) fam.names.emplace_back(n);
    for (std::string_view r : array_of(f["regexes"])) fam.regexes.emplace_back(r);
    for (simdjson::dom::element row : array_of(f["ends"])) {
      std::vector<int64_t> ends;
      for (int64_t e : array_of(row)) ends.push_back(e);
      fam.ends.push_back(std::move(ends));
    }
    g.families.push_back(std::move(fam));
  }
  return g;
}

// A vocabulary-only GGUF as llama.cpp's converter writes one for a byte-level BPE tokenizer.json:
// tokens by id, added tokens typed control (special) or user-defined, the merges as "a b".
std::vector<uint8_t> gguf_from_tokenizer_json(const fs::path& path, std::string_view pre) {
  simdjson::dom::parser parser;
  const std::string json = ollm_test::read_text_file(path);
  simdjson::dom::element doc = parser.parse(json).value();
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  auto put = [&](std::string_view s, int64_t id, int32_t type) {
    if (static_cast<size_t>(id) >= tokens.size()) {
      tokens.resize(static_cast<size_t>(id) + 1);
      types.resize(static_cast<size_t>(id) + 1, 1);
    }
    tokens[static_cast<size_t>(id)] = std::string(s);
    types[static_cast<size_t>(id)] = type;
  };
  for (auto [key, value] : object_of(doc["model"]["vocab"])) put(key, value.get_int64().value(), 1);
  for (simdjson::dom::element a : array_of(doc["added_tokens"]))
    put(a["content"].get_string().value(), a["id"].get_int64().value(), a["special"].get_bool().value() ? 3 : 4);
  std::vector<std::string> merges;
  for (simdjson::dom::element m : array_of(doc["model"]["merges"])) {
    if (m.is_string()) {
      merges.emplace_back(m.get_string().value());
    } else {
      simdjson::dom::array pair = m.get_array().value();
      merges.push_back(fmt::format("{} {}", std::string_view(pair.at(0).get_string().value()),
                                   std::string_view(pair.at(1).get_string().value())));
    }
  }
  ollm::GgufWriter w;
  w.set("general.architecture", "llama");
  w.set("tokenizer.ggml.model", "gpt2");
  w.set("tokenizer.ggml.pre", std::string(pre));
  w.set("tokenizer.ggml.tokens", ollm::GgufArray{tokens});
  w.set("tokenizer.ggml.token_type", ollm::GgufArray{types});
  w.set("tokenizer.ggml.merges", ollm::GgufArray{merges});
  w.set("tokenizer.ggml.add_bos_token", false);
  return w.to_bytes();
}

std::string ids_str(const std::vector<int32_t>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

}  // namespace

TEST_CASE("GGUF pre-tokenizers: every name splits text as HF tokenizers' Split pre-tokenizers do") {
  const SplitGolden g = read_split_golden();
  REQUIRE(g.texts.size() > 600);
  std::set<std::string> golden_names;
  size_t checked = 0, bad = 0;
  std::map<std::string, size_t> bad_by_name;
  for (const auto& fam : g.families) {
    REQUIRE(fam.ends.size() == g.texts.size());
    for (const std::string& name : fam.names) {
      golden_names.insert(name);
      const auto& spec = ollm::tok::gguf_pre_tokenizer_spec(name);
      // The golden was made from this table: a regex edited since needs the script re-run.
      REQUIRE_MESSAGE(std::vector<std::string>(spec.regexes.begin(), spec.regexes.end()) == fam.regexes,
                      "regexes of '" << name << "' differ from the golden's");
      // Only the splits: the byte-level stage would rewrite the offsets.
      std::vector<ollm::tok::PreTokenizerPtr> parts;
      for (std::string_view re : spec.regexes)
        parts.push_back(ollm::tok::make_split_pre_tokenizer(ollm::tok::Regex(re, name), ollm::tok::SplitBehavior::isolated, false));
      const auto pt = ollm::tok::make_sequence_pre_tokenizer(std::move(parts));
      for (size_t i = 0; i < g.texts.size(); ++i) {
        ++checked;
        const auto got = split_ends(*pt, g.texts[i]);
        if (got != fam.ends[i]) ++bad_by_name[name];
        if (got != fam.ends[i] && ++bad <= 8)
          MESSAGE("'" << name << "' text " << i << " \"" << show(g.texts[i]) << "\"\n  want " << fmt::format("{}", fam.ends[i])
                      << "\n  got  " << fmt::format("{}", got));
      }
    }
  }
  for (const auto& [name, n] : bad_by_name) MESSAGE("'" << name << "': " << n << " texts split differently");
  MESSAGE(golden_names.size() << " names, " << checked << " (name, text) splits, " << bad << " mismatches");
  CHECK(bad == 0);
  // Every name the loader accepts is in the golden.
  for (std::string_view name : ollm::tok::gguf_pre_tokenizer_names())
    CHECK_MESSAGE(golden_names.count(std::string(name)) == 1, "no golden for '" << name << "'");
}

// The Oniguruma constructs of the rewrite alone (src/tokenizer/regex.cpp: && intersections, nested
// classes, \p{Script} as Script rather than PCRE2's Script_Extensions, \b and \B on Oniguruma's
// \w), each pattern split over a few texts exactly as HF tokenizers' Split does.
TEST_CASE("GGUF pre-tokenizers: the regex rewrite splits Oniguruma constructs as HF does") {
  simdjson::dom::parser parser;
  const std::string json = ollm_test::read_text_file(gguf_pre_dir() / "splits.json");
  REQUIRE_MESSAGE(!json.empty(), "missing " << (gguf_pre_dir() / "splits.json").string());
  simdjson::dom::element doc = parser.parse(json).value();
  std::vector<std::string> texts;
  for (std::string_view t : array_of(doc["regex_cases"]["texts"])) texts.emplace_back(t);
  size_t n = 0, bad = 0;
  for (simdjson::dom::element c : array_of(doc["regex_cases"]["cases"])) {
    const std::string pattern(c["pattern"].get_string().value());
    std::vector<ollm::tok::PreTokenizerPtr> parts;
    parts.push_back(ollm::tok::make_split_pre_tokenizer(ollm::tok::Regex(pattern, "regex case"),
                                                        ollm::tok::SplitBehavior::isolated, false));
    const auto pt = ollm::tok::make_sequence_pre_tokenizer(std::move(parts));
    size_t i = 0;
    for (simdjson::dom::element row : array_of(c["ends"])) {
      REQUIRE(i < texts.size());
      std::vector<int64_t> want;
      for (int64_t e : array_of(row)) want.push_back(e);
      const auto got = split_ends(*pt, texts[i]);
      ++n;
      if (got != want) {
        ++bad;
        MESSAGE("/" << pattern << "/ on \"" << show(texts[i]) << "\"\n  want " << fmt::format("{}", want) << "\n  got  "
                    << fmt::format("{}", got) << "\n  pcre2 " << ollm::tok::onig_to_pcre2(pattern));
      }
      ++i;
    }
  }
  MESSAGE(n << " (pattern, text) splits, " << bad << " mismatches");
  CHECK(n >= 100);
  CHECK(bad == 0);
}

TEST_CASE("GGUF pre-tokenizers: malformed or too deeply nested classes are errors naming the regex") {
  const std::string deep = std::string(100000, '[') + "a" + std::string(100000, ']');
  for (const std::string& pattern : {deep, std::string("[a&&"), std::string("[[a]"), std::string("[a&&[b"),
                                     std::string("[\\"), std::string("[[:alpha:"), std::string("\\p{Han")}) {
    CAPTURE(pattern.substr(0, 40));
    try {
      ollm::tok::Regex re(pattern, "test");
      FAIL("accepted");
    } catch (const ollm::Error& e) {
      CHECK(e.code() == ollm::ErrorCode::invalid_model_file);
      CHECK(std::string(e.what()).rfind("[tokenizer] ", 0) == 0);
    }
  }
  // Any soup of class syntax either compiles or is an ollm::Error: never a crash or a hang.
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  constexpr std::string_view alphabet[] = {"[", "]", "^", "&&", "&", "\\", "\\w", "\\W", "\\S", "\\b", "\\p{Han}",
                                           "\\p{", "}", "[:", ":]", "a", "-", "(", ")", "(?i:", "中", "*", "+"};
  const std::string text = "a中[&]^ \u0301_-b";
  size_t compiled = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string pattern;
    const size_t len = 1 + next() % 16;
    for (size_t t = 0; t < len; ++t) pattern.append(alphabet[next() % std::size(alphabet)]);
    try {
      ollm::tok::Regex re(pattern, "soup");
      std::vector<std::pair<size_t, size_t>> found;
      re.find_all(text, found);
      size_t prev = 0;
      for (const auto& m : found) {  // ordered, inside the text
        CHECK(m.first >= prev);
        CHECK(m.first <= m.second);
        CHECK(m.second <= text.size());
        prev = m.second;
      }
      ++compiled;
    } catch (const ollm::Error& e) {
      CHECK(std::string(e.what()).rfind("[tokenizer] ", 0) == 0);
    }
  }
  MESSAGE(compiled << " of 20000 random class patterns compiled");
  // 63 levels still compile (one code point: 'a').
  const std::string ok = std::string(63, '[') + "a" + std::string(63, ']');
  std::vector<std::pair<size_t, size_t>> m;
  ollm::tok::Regex(ok, "test").find_all("bab", m);
  CHECK(m == std::vector<std::pair<size_t, size_t>>{{1, 2}});
}

TEST_CASE("GGUF pre-tokenizers: the names llama.cpp writes are all known") {
  // The names of issue 13 (llama.cpp's converter and vocabulary loader).
  for (const char* name :
       {"default", "gpt-2", "llama-bpe", "deepseek-llm", "deepseek-coder", "deepseek-v3", "falcon", "mpt", "starcoder",
        "refact", "command-r", "qwen2", "stablelm2", "olmo", "dbrx", "smaug-bpe", "poro-chat", "jais", "chatglm-bpe",
        "viking", "tekken", "smollm", "codeshell", "bloom", "gpt3-finnish", "exaone", "chameleon", "minerva-7b", "megrez",
        "gpt-4o", "superbpe", "trillion", "bailingmoe", "llama4", "pixtral", "seed-coder",
        // Their regexes need the Oniguruma rewrite's && intersection, Script \p{Han} and \b.
        "kimi-k2", "tiny_aya", "cohere2moe"})
    CHECK_NOTHROW((void)ollm::tok::gguf_pre_tokenizer_spec(name));
  // Not byte-level BPE: refused, saying why.
  for (const char* name : {"gemma4", "sarvam-moe", "granite-embed-multi-311m", "whitespace"}) {
    try {
      (void)ollm::tok::gguf_pre_tokenizer_spec(name);
      FAIL("'" << name << "' accepted");
    } catch (const ollm::Error& e) {
      CHECK(e.code() == ollm::ErrorCode::unsupported);
      CHECK(std::string(e.what()).find("not byte-level BPE") != std::string::npos);
    }
  }
  try {
    (void)ollm::tok::gguf_pre_tokenizer_spec("no-such-pre");
    FAIL("unknown name accepted");
  } catch (const ollm::Error& e) {
    CHECK(e.code() == ollm::ErrorCode::unsupported);
    CHECK(std::string(e.what()) == "[tokenizer] GGUF pre-tokenizer 'no-such-pre' (tokenizer.ggml.pre) is not supported");
  }
}

TEST_CASE("GGUF pre-tokenizers: vocabularies converted from real tokenizer.json files encode as HF does") {
  const auto texts = ollm_test::golden_texts();
  REQUIRE(texts.size() >= 2000);
  // tokenizer.json -> the name llama.cpp's converter gives that tokenizer.
  for (auto [json_name, pre] : {std::pair{"llama3", "llama-bpe"}, std::pair{"qwen3", "qwen2"},
                                std::pair{"deepseek-v3", "deepseek-v3"}, std::pair{"gpt-oss", "gpt-4o"}}) {
    SUBCASE(pre) {
      const auto path = ollm_test::tokenizer_json_path(json_name);
      REQUIRE_MESSAGE(fs::exists(path), "missing " << path.string());
      const std::vector<uint8_t> bytes = gguf_from_tokenizer_json(path, pre);
      const auto tok = ollm::Tokenizer::from_gguf(ollm::GgufFile::parse(bytes, "vocab.gguf"));
      const auto cases = ollm_test::golden_cases(json_name);
      REQUIRE(cases.size() == texts.size());
      size_t bad = 0;
      for (size_t i = 0; i < texts.size(); ++i) {
        const auto ids = tok.encode(texts[i], false, true);
        if (ids != cases[i].ids_plain && ++bad <= 5)
          MESSAGE(pre << " text " << i << " \"" << show(texts[i]) << "\"\n  want " << ids_str(cases[i].ids_plain)
                      << "\n  got  " << ids_str(ids));
      }
      MESSAGE(pre << ": " << texts.size() << " texts, " << bad << " mismatches");
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("GGUF pre-tokenizers: SmolLM2's vocabulary (pre 'smollm') encodes as HF does") {
  const auto file = ollm::GgufFile::open(gguf_pre_dir() / "smollm2.gguf");
  CHECK(file.metadata().get_string("tokenizer.ggml.pre", "") == "smollm");
  const auto tok = ollm::Tokenizer::from_gguf(file);
  const SplitGolden g = read_split_golden();
  const auto lines = ollm_test::read_lines(gguf_pre_dir() / "smollm2.jsonl");
  REQUIRE(lines.size() == g.texts.size());
  simdjson::dom::parser parser;
  size_t bad = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto want = ollm_test::id_list(parser.parse(lines[i]).value()["ids"].value());
    const auto ids = tok.encode(g.texts[i], true, true);  // add_bos_token is false: nothing added
    if (ids != want && ++bad <= 5)
      MESSAGE("text " << i << " \"" << show(g.texts[i]) << "\"\n  want " << ids_str(want) << "\n  got  " << ids_str(ids));
  }
  MESSAGE(lines.size() << " texts, " << bad << " mismatches");
  CHECK(bad == 0);
  // Digits are single tokens even in a run ("Digits(individual_digits)").
  CHECK(tok.encode("2024", false).size() == 4);
}
