// Loads a Hugging Face tokenizer.json (and optionally tokenizer_config.json) into the pipeline,
// with simdjson's DOM parser. Unknown component types fail as `unsupported`, naming the type.
#include <simdjson.h>

#include <algorithm>
#include <unordered_map>

#include "tokenizer/tokenizer_impl.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr int64_t max_token_id = int64_t{1} << 24;

class JsonReader {
 public:
  explicit JsonReader(std::string_view source) : source_(source) {}

  [[noreturn]] void bad(std::string_view where, std::string_view expectation) const {
    fail(ErrorCode::invalid_model_file, "[tokenizer] {}: {} {}", source_, where, expectation);
  }
  [[noreturn]] void unsupported(std::string_view what, std::string_view type) const {
    fail(ErrorCode::unsupported, "[tokenizer] {}: {} type '{}' is not supported", source_, what, type);
  }

  std::optional<element> field(element obj, std::string_view key) const {
    if (obj.type() != element_type::OBJECT) return std::nullopt;
    element v;
    if (obj.get_object().value().at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
    if (v.type() == element_type::NULL_VALUE) return std::nullopt;
    return v;
  }
  object as_object(element e, std::string_view where) const {
    object o;
    if (e.get(o) != simdjson::SUCCESS) bad(where, "must be an object");
    return o;
  }
  array as_array(element e, std::string_view where) const {
    array a;
    if (e.get(a) != simdjson::SUCCESS) bad(where, "must be an array");
    return a;
  }
  std::string_view as_string(element e, std::string_view where) const {
    std::string_view s;
    if (e.get(s) != simdjson::SUCCESS) bad(where, "must be a string");
    return s;
  }
  int64_t as_int(element e, std::string_view where) const {
    int64_t v = 0;
    if (e.get(v) == simdjson::SUCCESS) return v;
    uint64_t u = 0;
    if (e.get(u) == simdjson::SUCCESS && u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
    bad(where, "must be an integer");
  }
  int32_t as_id(element e, std::string_view where) const {
    const int64_t v = as_int(e, where);
    // Real vocabularies stay far below 2^24; larger ids would only size tables from hostile input.
    if (v < 0 || v >= max_token_id) bad(where, fmt::format("is {}, outside the token id range", v));
    return static_cast<int32_t>(v);
  }
  bool get_bool(element obj, std::string_view key, bool fallback) const {
    auto f = field(obj, key);
    if (!f) return fallback;
    bool b = false;
    if (f->get(b) != simdjson::SUCCESS) bad(key, "must be a boolean");
    return b;
  }
  std::string get_string(element obj, std::string_view key, std::string_view fallback) const {
    auto f = field(obj, key);
    return std::string(f ? as_string(*f, key) : fallback);
  }
  std::string_view type_of(element e, std::string_view what) const {
    auto t = field(e, "type");
    if (!t) bad(what, "has no \"type\"");
    return as_string(*t, fmt::format("{}.type", what));
  }
  // {"String": s} or {"Regex": r} -> (text, is_regex)
  std::pair<std::string, bool> pattern(element e, std::string_view where) const {
    if (auto s = field(e, "String")) return {std::string(as_string(*s, where)), false};
    if (auto r = field(e, "Regex")) return {std::string(as_string(*r, where)), true};
    bad(where, "must hold \"String\" or \"Regex\"");
  }
  tok::SplitBehavior behavior(element obj, std::string_view fallback) const {
    const std::string b = get_string(obj, "behavior", fallback);
    if (b == "Removed") return tok::SplitBehavior::removed;
    if (b == "Isolated") return tok::SplitBehavior::isolated;
    if (b == "MergedWithPrevious") return tok::SplitBehavior::merged_with_previous;
    if (b == "MergedWithNext") return tok::SplitBehavior::merged_with_next;
    if (b == "Contiguous") return tok::SplitBehavior::contiguous;
    unsupported("split behavior", b);
  }
  std::string_view source() const noexcept { return source_; }

 private:
  std::string_view source_;
};

tok::NormalizerPtr parse_normalizer(const JsonReader& j, element e) {
  const std::string_view type = j.type_of(e, "normalizer");
  if (type == "NFC") return tok::make_unicode_normalizer(tok::NormalForm::nfc);
  if (type == "NFD") return tok::make_unicode_normalizer(tok::NormalForm::nfd);
  if (type == "NFKC") return tok::make_unicode_normalizer(tok::NormalForm::nfkc);
  if (type == "NFKD") return tok::make_unicode_normalizer(tok::NormalForm::nfkd);
  if (type == "Lowercase") return tok::make_lowercase_normalizer();
  if (type == "StripAccents") return tok::make_strip_accents_normalizer();
  if (type == "Strip") return tok::make_strip_normalizer(j.get_bool(e, "strip_left", true), j.get_bool(e, "strip_right", true));
  if (type == "Prepend") return tok::make_prepend_normalizer(j.get_string(e, "prepend", ""));
  if (type == "Replace") {
    auto p = j.field(e, "pattern");
    if (!p) j.bad("Replace normalizer", "has no pattern");
    auto [text, regex] = j.pattern(*p, "Replace normalizer pattern");
    return tok::make_replace_normalizer(std::move(text), regex, j.get_string(e, "content", ""));
  }
  if (type == "BertNormalizer") {
    std::optional<bool> strip;
    if (j.field(e, "strip_accents")) strip = j.get_bool(e, "strip_accents", false);
    return tok::make_bert_normalizer(j.get_bool(e, "clean_text", true), j.get_bool(e, "handle_chinese_chars", true), strip,
                                     j.get_bool(e, "lowercase", true));
  }
  if (type == "Sequence") {
    std::vector<tok::NormalizerPtr> parts;
    if (auto list = j.field(e, "normalizers"))
      for (element x : j.as_array(*list, "normalizers")) parts.push_back(parse_normalizer(j, x));
    return tok::make_sequence_normalizer(std::move(parts));
  }
  if (type == "Precompiled") {
    // An empty charsmap is the identity; a real one is SentencePiece's compiled normalizer.
    auto m = j.field(e, "precompiled_charsmap");
    if (!m || j.as_string(*m, "precompiled_charsmap").empty()) return tok::make_sequence_normalizer({});
  }
  j.unsupported("normalizer", type);
}

int prepend_scheme(const JsonReader& j, element e) {
  if (auto s = j.field(e, "prepend_scheme")) {
    const std::string_view v = j.as_string(*s, "prepend_scheme");
    if (v == "always") return 0;
    if (v == "first") return 1;
    if (v == "never") return 2;
    j.unsupported("Metaspace prepend_scheme", v);
  }
  return j.get_bool(e, "add_prefix_space", true) ? 0 : 2;  // files older than prepend_scheme
}

tok::PreTokenizerPtr parse_pre_tokenizer(const JsonReader& j, element e) {
  const std::string_view type = j.type_of(e, "pre_tokenizer");
  if (type == "Split") {
    auto p = j.field(e, "pattern");
    if (!p) j.bad("Split pre-tokenizer", "has no pattern");
    auto [text, regex] = j.pattern(*p, "Split pattern");
    tok::Regex re = regex ? tok::Regex(text, "Split pre-tokenizer") : tok::Regex::literal(text, "Split pre-tokenizer");
    return tok::make_split_pre_tokenizer(std::move(re), j.behavior(e, "Isolated"), j.get_bool(e, "invert", false));
  }
  if (type == "ByteLevel")
    return tok::make_byte_level_pre_tokenizer(j.get_bool(e, "add_prefix_space", true), j.get_bool(e, "use_regex", true));
  if (type == "Metaspace")
    return tok::make_metaspace_pre_tokenizer(j.get_string(e, "replacement", "\xE2\x96\x81"), prepend_scheme(j, e),
                                             j.get_bool(e, "split", true));
  if (type == "Whitespace") return tok::make_whitespace_pre_tokenizer();
  if (type == "WhitespaceSplit") return tok::make_whitespace_split_pre_tokenizer();
  if (type == "BertPreTokenizer") return tok::make_bert_pre_tokenizer();
  if (type == "Digits") return tok::make_digits_pre_tokenizer(j.get_bool(e, "individual_digits", false));
  if (type == "Punctuation") return tok::make_punctuation_pre_tokenizer(j.behavior(e, "Isolated"));
  if (type == "CharDelimiterSplit") {
    const std::string d = j.get_string(e, "delimiter", " ");
    size_t i = 0;
    if (d.empty() || tok::utf8_len(static_cast<unsigned char>(d[0])) != d.size())
      j.bad("CharDelimiterSplit delimiter", "must be one character");
    return tok::make_char_delimiter_pre_tokenizer(tok::next_cp(d, i));
  }
  if (type == "Sequence") {
    std::vector<tok::PreTokenizerPtr> parts;
    if (auto list = j.field(e, "pretokenizers"))
      for (element x : j.as_array(*list, "pretokenizers")) parts.push_back(parse_pre_tokenizer(j, x));
    return tok::make_sequence_pre_tokenizer(std::move(parts));
  }
  j.unsupported("pre-tokenizer", type);
}

// Flattens a post-processor for single sequences into the ids before and after the text.
void parse_post_processor(const JsonReader& j, element e, std::vector<int32_t>& prefix, std::vector<int32_t>& suffix) {
  const std::string_view type = j.type_of(e, "post_processor");
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "Sequence") {
    if (auto list = j.field(e, "processors"))
      for (element x : j.as_array(*list, "processors")) parse_post_processor(j, x, prefix, suffix);
    return;
  }
  auto pair_id = [&](std::string_view key) {
    auto f = j.field(e, key);
    if (!f) j.bad(fmt::format("{} post-processor", type), fmt::format("has no \"{}\"", key));
    array a = j.as_array(*f, key);
    if (a.size() != 2) j.bad(key, "must be [token, id]");
    return j.as_id(a.at(1).value(), key);
  };
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const int32_t cls = pair_id("cls"), sep = pair_id("sep");
    prefix.insert(prefix.begin(), cls);
    suffix.push_back(sep);
    return;
  }
  if (type == "TemplateProcessing") {
    auto single = j.field(e, "single");
    if (!single) j.bad("TemplateProcessing", "has no \"single\" template");
    auto specials = j.field(e, "special_tokens");
    std::vector<int32_t> before, after;
    bool seen_sequence = false;
    for (element piece : j.as_array(*single, "TemplateProcessing.single")) {
      if (j.field(piece, "Sequence")) {
        seen_sequence = true;
        continue;
      }
      auto sp = j.field(piece, "SpecialToken");
      if (!sp) j.bad("TemplateProcessing.single", "pieces must be Sequence or SpecialToken");
      const std::string name = j.get_string(*sp, "id", "");
      auto entry = specials ? j.field(*specials, name) : std::nullopt;
      if (!entry) j.bad("TemplateProcessing", fmt::format("uses special token '{}' missing from special_tokens", name));
      auto ids = j.field(*entry, "ids");
      if (!ids) j.bad(fmt::format("TemplateProcessing special token '{}'", name), "has no ids");
      for (element id : j.as_array(*ids, "ids")) (seen_sequence ? after : before).push_back(j.as_id(id, "ids"));
    }
    prefix.insert(prefix.begin(), before.begin(), before.end());
    suffix.insert(suffix.end(), after.begin(), after.end());
    return;
  }
  j.unsupported("post-processor", type);
}

void parse_decoder(const JsonReader& j, element e, std::vector<tok::DecoderStage>& stages) {
  using K = tok::DecoderStage::Kind;
  const std::string_view type = j.type_of(e, "decoder");
  tok::DecoderStage s{};
  if (type == "ByteLevel") {
    s.kind = K::byte_level;
  } else if (type == "Metaspace") {
    s.kind = K::metaspace;
    s.a = j.get_string(e, "replacement", "\xE2\x96\x81");
    s.flag = prepend_scheme(j, e) != 2;
  } else if (type == "ByteFallback") {
    s.kind = K::byte_fallback;
  } else if (type == "Fuse") {
    s.kind = K::fuse;
  } else if (type == "Strip") {
    s.kind = K::strip;
    s.a = j.get_string(e, "content", " ");
    if (s.a.empty() || tok::utf8_len(static_cast<unsigned char>(s.a[0])) != s.a.size())
      j.bad("Strip decoder content", "must be one character");
    auto count = [&](std::string_view k) {
      auto f = j.field(e, k);
      const int64_t v = f ? j.as_int(*f, k) : 0;
      if (v < 0) j.bad(k, "must not be negative");
      return static_cast<size_t>(v);
    };
    s.start = count("start");
    s.stop = count("stop");
  } else if (type == "Replace") {
    s.kind = K::replace;
    auto p = j.field(e, "pattern");
    if (!p) j.bad("Replace decoder", "has no pattern");
    auto [text, regex] = j.pattern(*p, "Replace decoder pattern");
    if (regex) s.regex = std::make_shared<tok::Regex>(text, "Replace decoder");
    s.a = std::move(text);
    s.b = j.get_string(e, "content", "");
  } else if (type == "WordPiece") {
    s.kind = K::wordpiece;
    s.a = j.get_string(e, "prefix", "##");
    s.flag = j.get_bool(e, "cleanup", true);
  } else if (type == "BPEDecoder") {
    s.kind = K::bpe_suffix;
    s.a = j.get_string(e, "suffix", "</w>");
  } else if (type == "Sequence") {
    if (auto list = j.field(e, "decoders"))
      for (element x : j.as_array(*list, "decoders")) parse_decoder(j, x, stages);
    return;
  } else {
    j.unsupported("decoder", type);
  }
  stages.push_back(std::move(s));
}

std::vector<std::pair<std::string, int32_t>> parse_vocab(const JsonReader& j, element model) {
  auto v = j.field(model, "vocab");
  if (!v) j.bad("model", "has no vocab");
  object o = j.as_object(*v, "model.vocab");
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(o.size());
  // One id per token and one token per id: a table built from a map with a repeat keeps one of
  // the two, and text spelled by the other silently vanishes from the encoding.
  std::unordered_map<int32_t, size_t> entry_of_id;  // id -> index into `out`
  std::unordered_map<std::string_view, int32_t> by_token;
  entry_of_id.reserve(o.size());
  by_token.reserve(o.size());
  for (auto [key, value] : o) {
    const int32_t id = j.as_id(value, "model.vocab value");
    if (const auto [it, fresh] = entry_of_id.emplace(id, out.size()); !fresh)
      fail(ErrorCode::invalid_model_file, "[tokenizer] {}: model.vocab gives id {} to both '{}' and '{}'", j.source(), id,
           printable(out[it->second].first), printable(key));
    if (const auto [it, fresh] = by_token.emplace(key, id); !fresh)
      fail(ErrorCode::invalid_model_file, "[tokenizer] {}: model.vocab lists '{}' twice (ids {} and {})", j.source(),
           printable(key), it->second, id);
    out.emplace_back(std::string(key), id);
  }
  return out;
}

tok::ModelPtr parse_model(const JsonReader& j, element model) {
  std::string type = j.get_string(model, "type", "");
  if (type.empty()) {  // very old files: infer from the fields present
    if (j.field(model, "merges")) type = "BPE";
    else if (j.field(model, "continuing_subword_prefix")) type = "WordPiece";
  }
  if (type == "BPE") {
    tok::BpeOptions opt;
    opt.unk_token = j.get_string(model, "unk_token", "");
    opt.continuing_subword_prefix = j.get_string(model, "continuing_subword_prefix", "");
    opt.end_of_word_suffix = j.get_string(model, "end_of_word_suffix", "");
    opt.fuse_unk = j.get_bool(model, "fuse_unk", false);
    opt.byte_fallback = j.get_bool(model, "byte_fallback", false);
    opt.ignore_merges = j.get_bool(model, "ignore_merges", false);
    std::vector<std::pair<std::string_view, std::string_view>> merges;
    if (auto m = j.field(model, "merges")) {
      array a = j.as_array(*m, "model.merges");
      merges.reserve(a.size());
      for (element x : a) {
        if (x.type() == element_type::STRING) {
          const std::string_view s = j.as_string(x, "merge");
          const size_t sp = s.find(' ');
          if (sp == std::string_view::npos) j.bad(fmt::format("merge {} '{}'", merges.size(), s), "has no space");
          merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        } else {
          array pair = j.as_array(x, "merge");
          if (pair.size() != 2) j.bad(fmt::format("merge {}", merges.size()), "must be a pair of strings");
          merges.emplace_back(j.as_string(pair.at(0).value(), "merge"), j.as_string(pair.at(1).value(), "merge"));
        }
      }
    }
    return tok::make_bpe_model(tok::tokens_by_id(parse_vocab(j, model)), merges, std::move(opt));
  }
  if (type == "WordPiece") {
    auto max_chars = j.field(model, "max_input_chars_per_word");
    return tok::make_wordpiece_model(tok::tokens_by_id(parse_vocab(j, model)), j.get_string(model, "unk_token", "[UNK]"),
                                     j.get_string(model, "continuing_subword_prefix", "##"),
                                     max_chars ? static_cast<size_t>(j.as_int(*max_chars, "max_input_chars_per_word")) : 100);
  }
  j.unsupported("model", type.empty() ? "(missing)" : type);
}

// bos_token / eos_token in tokenizer_config.json: a string or an AddedToken object.
std::optional<std::string> config_token(const JsonReader& j, element config, std::string_view key) {
  auto f = j.field(config, key);
  if (!f) return std::nullopt;
  if (f->type() == element_type::STRING) return std::string(j.as_string(*f, key));
  if (auto c = j.field(*f, "content")) return std::string(j.as_string(*c, key));
  return std::nullopt;
}

// simdjson 3.0 rejects integers beyond 64 bits, which transformers writes as
// "model_max_length": 1000000000000000019884624838656; such literals become 0 (unused here).
std::string clamp_big_integers(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) out.push_back(json[++i]);
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c >= '0' && c <= '9') {
      size_t e = i;
      while (e < json.size() && json[e] >= '0' && json[e] <= '9') ++e;
      if (e - i > 18 && (e >= json.size() || (json[e] != '.' && json[e] != 'e' && json[e] != 'E'))) {
        out.push_back('0');
        i = e - 1;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

// Errors raised below the JSON layer (model construction, regex compilation) get the file named.
template <class F>
auto with_source(std::string_view source, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string_view msg = e.what();
    const std::string_view tag = "[tokenizer] ";
    if (msg.starts_with(tag) && !msg.substr(tag.size()).starts_with(source))
      throw Error(e.code(), fmt::format("{}{}: {}", tag, source, msg.substr(tag.size())));
    throw;
  }
}

}  // namespace

std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(std::string_view json, std::string_view config_json,
                                                           std::string_view source, bool json_padded) {
  JsonReader j(source);
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size(), !json_padded).get(root))
    fail(ErrorCode::invalid_model_file, "[tokenizer] {}: invalid JSON: {}", source, simdjson::error_message(err));
  if (root.type() != element_type::OBJECT) j.bad("the top level", "must be an object");

  auto impl = std::make_shared<Tokenizer::Impl>();
  auto model = j.field(root, "model");
  if (!model) j.bad("the file", "has no \"model\"");
  with_source(source, [&] {
    impl->model = parse_model(j, *model);
    if (auto n = j.field(root, "normalizer")) impl->normalizer = parse_normalizer(j, *n);
    if (auto p = j.field(root, "pre_tokenizer")) impl->pre_tokenizer = parse_pre_tokenizer(j, *p);
    if (auto p = j.field(root, "post_processor")) parse_post_processor(j, *p, impl->post_prefix, impl->post_suffix);
    std::vector<tok::DecoderStage> stages;
    if (auto d = j.field(root, "decoder")) parse_decoder(j, *d, stages);
    impl->decoder = tok::Decoder(std::move(stages));
  });

  if (auto added = j.field(root, "added_tokens")) {
    std::unordered_map<int32_t, size_t> added_of_id;  // the first added token of each id
    for (element a : j.as_array(*added, "added_tokens")) {
      tok::AddedToken t;
      auto id = j.field(a, "id");
      if (!id) j.bad("added token", "has no id");
      t.id = j.as_id(*id, "added_tokens id");
      t.content = j.get_string(a, "content", "");
      t.special = j.get_bool(a, "special", false);
      t.lstrip = j.get_bool(a, "lstrip", false);
      t.rstrip = j.get_bool(a, "rstrip", false);
      t.normalized = j.get_bool(a, "normalized", !t.special);
      t.single_word = j.get_bool(a, "single_word", false);
      if (const auto [it, fresh] = added_of_id.emplace(t.id, impl->added.size()); !fresh) {
        const tok::AddedToken& other = impl->added[it->second];
        if (other.content != t.content)
          fail(ErrorCode::invalid_model_file, "[tokenizer] {}: added_tokens give id {} to both '{}' and '{}'", source, t.id,
               printable(other.content), printable(t.content));
      }
      impl->added.push_back(std::move(t));
    }
  }
  impl->finalize();

  // The post-processor's ids go straight into every encoding: one past the vocabulary would index
  // past the model's embedding table.
  const size_t vocab = impl->vocab_size();
  for (const auto* ids : {&impl->post_prefix, &impl->post_suffix})
    for (const int32_t id : *ids)
      if (!impl->token_string(id))
        fail(ErrorCode::invalid_model_file, "[tokenizer] {}: post_processor adds token id {}, which is not in the "
             "vocabulary of {} tokens", source, id, vocab);

  // Named tokens: tokenizer_config.json when given, else what the post-processor adds.
  auto lookup = [&](const std::optional<std::string>& s) -> std::optional<int32_t> {
    if (!s) return std::nullopt;
    const int32_t id = impl->find_token(*s);
    return id < 0 ? std::nullopt : std::optional<int32_t>(id);
  };
  if (!config_json.empty()) {
    simdjson::dom::parser config_parser;
    element config;
    auto err = config_parser.parse(config_json.data(), config_json.size(), true).get(config);
    std::string clamped;
    if (err == simdjson::NUMBER_ERROR) {
      clamped = clamp_big_integers(config_json);
      err = config_parser.parse(clamped.data(), clamped.size(), true).get(config);
    }
    if (err)
      fail(ErrorCode::invalid_model_file, "[tokenizer] tokenizer_config.json beside {}: invalid JSON: {}", source,
           simdjson::error_message(err));
    impl->bos = lookup(config_token(j, config, "bos_token"));
    impl->eos = lookup(config_token(j, config, "eos_token"));
  }
  if (!impl->bos && !impl->post_prefix.empty()) impl->bos = impl->post_prefix.front();
  if (!impl->eos && !impl->post_suffix.empty()) impl->eos = impl->post_suffix.back();
  for (const char* name : {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>", "<|return|>"}) {
    if (auto id = lookup(std::string(name))) {
      impl->eot = id;
      break;
    }
  }
  return impl;
}

}  // namespace ollm
