// Builds the tokenizer from GGUF metadata (tokenizer.ggml.*), reproducing the pipeline the
// model's Hugging Face tokenizer.json describes: "llama" = SentencePiece BPE with byte fallback
// (pairs ranked by score as the merges HF derives from the scores would rank them; no merges list
// is built at load time), "gpt2" = byte-level BPE with the pre-tokenizer named by
// tokenizer.ggml.pre, "bert" = WordPiece.
#include "ollm/gguf.hpp"
#include "tokenizer/gguf_pre_tokenizers.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {
namespace {

constexpr std::string_view metaspace = "\xE2\x96\x81";

// GGUF token types (llama.cpp's llama_token_type).
enum TokenType : int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

const std::vector<std::string>& string_array(const GgufMetadata& md, std::string_view key) {
  const GgufArray& a = md.at(key).to_array(key);
  const auto* v = std::get_if<std::vector<std::string>>(&a.items);
  if (!v) fail(ErrorCode::invalid_model_file, "[tokenizer] GGUF {} must be an array of strings", key);
  return *v;
}

template <class T>
std::vector<T> number_array(const GgufMetadata& md, std::string_view key, size_t n, T fallback) {
  std::vector<T> out(n, fallback);
  const GgufValue* v = md.find(key);
  if (!v) return out;
  const GgufArray& a = v->to_array(key);
  if (a.size() != n)
    fail(ErrorCode::invalid_model_file, "[tokenizer] GGUF {} has {} entries for {} tokens", key, a.size(), n);
  std::visit(
      [&](const auto& items) {
        using E = typename std::decay_t<decltype(items)>::value_type;
        if constexpr (std::is_arithmetic_v<E>) {
          for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(items[i]);
        } else {
          fail(ErrorCode::invalid_model_file, "[tokenizer] GGUF {} must be numeric", key);
        }
      },
      a.items);
  return out;
}

// A special token id; -1 (also as uint32 0xFFFFFFFF, how llama.cpp writes LLAMA_TOKEN_NULL)
// means "none". check_special_token_ids() has refused every other id outside the vocabulary.
std::optional<int32_t> token_id(const GgufMetadata& md, std::string_view key, size_t n) {
  const GgufValue* v = md.find(key);
  if (!v) return std::nullopt;
  const int64_t id = v->to_int64(key);
  if (id < 0 || static_cast<size_t>(id) >= n) return std::nullopt;
  return static_cast<int32_t>(id);
}

// Every tokenizer.ggml.*_token_id (bos, eos, eot, eom, unknown, seperator, padding, cls, mask,
// fim_*): an id past the vocabulary used to read as "no such token", which silently dropped BOS.
// gguf-py's converter skips such ids instead of writing them, so one in a file is corruption.
void check_special_token_ids(const GgufMetadata& md, size_t n) {
  for (const auto& [key, value] : md.entries()) {
    if (!key.starts_with("tokenizer.ggml.") || !key.ends_with("_token_id")) continue;
    const int64_t id = value.to_int64(key);  // refuses a value that is not an integer, naming the key
    const bool none = id == -1 || (value.type() == GgufValueType::uint32 && id == int64_t{UINT32_MAX});
    if (!none && (id < 0 || static_cast<uint64_t>(id) >= n))
      fail(ErrorCode::invalid_model_file, "[tokenizer] GGUF {} is {}, outside the vocabulary of {} tokens", printable(key), id,
           n);
  }
}

tok::NormalizerPtr replace_spaces() { return tok::make_replace_normalizer(" ", false, std::string(metaspace)); }

}  // namespace

std::shared_ptr<const Tokenizer::Impl> load_tokenizer_gguf(const GgufFile& file) {
  const GgufMetadata& md = file.metadata();
  const std::string model = md.get_string("tokenizer.ggml.model", "");
  if (model.empty()) fail(ErrorCode::not_found, "[tokenizer] GGUF file has no tokenizer.ggml.model");
  const std::vector<std::string>& tokens = string_array(md, "tokenizer.ggml.tokens");
  const size_t n = tokens.size();
  const auto types = number_array<int32_t>(md, "tokenizer.ggml.token_type", n, normal);
  const auto scores = number_array<float>(md, "tokenizer.ggml.scores", n, 0.0f);

  check_special_token_ids(md, n);
  auto impl = std::make_shared<Tokenizer::Impl>();
  const auto bos = token_id(md, "tokenizer.ggml.bos_token_id", n);
  const auto eos = token_id(md, "tokenizer.ggml.eos_token_id", n);
  const auto unk = token_id(md, "tokenizer.ggml.unknown_token_id", n);
  impl->bos = bos;
  impl->eos = eos;
  impl->eot = token_id(md, "tokenizer.ggml.eot_token_id", n);

  // The model's strings by id: a copy of the GGUF array (the tokenizer outlives the file), edited in
  // place where the converter changed them, then moved into the model.
  std::vector<std::string> vocab = tokens;
  auto add_special_tokens = [&](bool user_defined_spaces_to_metaspace) {
    for (size_t i = 0; i < n; ++i) {
      if (types[i] != control && types[i] != user_defined) continue;
      tok::AddedToken t;
      t.id = static_cast<int32_t>(i);
      t.content = vocab[i];
      t.special = types[i] == control;
      if (t.special || !user_defined_spaces_to_metaspace) t.normalized = false;
      impl->added.push_back(std::move(t));
    }
  };

  if (model == "llama") {
    const bool add_space_prefix = md.get_bool("tokenizer.ggml.add_space_prefix", true);
    std::vector<bool> mergeable(n, false);
    std::vector<float> merge_scores = scores;
    for (size_t i = 0; i < n; ++i) {
      // Converters write user-defined pieces with spaces where SentencePiece has U+2581.
      if (types[i] == user_defined) {
        std::string tmp;
        tok::replace_all(vocab[i], " ", metaspace, tmp);
        vocab[i].swap(tmp);
        merge_scores[i] = 0.0f;  // SentencePiece scores user-defined pieces 0 (GGUF stores -1000)
      }
      mergeable[i] = types[i] == normal || types[i] == user_defined;
    }
    tok::BpeOptions opt;
    opt.byte_fallback = true;
    opt.fuse_unk = true;
    if (unk) opt.unk_token = vocab[static_cast<size_t>(*unk)];
    add_special_tokens(true);
    impl->model = tok::make_bpe_model_from_scores(std::move(vocab), merge_scores, mergeable, std::move(opt));
    if (add_space_prefix) {
      std::vector<tok::NormalizerPtr> parts;
      parts.push_back(tok::make_prepend_normalizer(std::string(metaspace)));
      parts.push_back(replace_spaces());
      impl->normalizer = tok::make_sequence_normalizer(std::move(parts));
    } else {
      impl->normalizer = replace_spaces();
    }
    using K = tok::DecoderStage::Kind;
    std::vector<tok::DecoderStage> stages;
    stages.push_back(tok::make_stage(K::replace, std::string(metaspace), " "));
    stages.push_back(tok::make_stage(K::byte_fallback));
    stages.push_back(tok::make_stage(K::fuse));
    if (add_space_prefix) {
      tok::DecoderStage strip = tok::make_stage(K::strip, " ");
      strip.start = 1;
      stages.push_back(strip);
    }
    impl->decoder = tok::Decoder(std::move(stages));
    if (md.get_bool("tokenizer.ggml.add_bos_token", true) && bos) impl->post_prefix.push_back(*bos);
    if (md.get_bool("tokenizer.ggml.add_eos_token", false) && eos) impl->post_suffix.push_back(*eos);
  } else if (model == "gpt2") {
    const std::vector<std::string>& merge_lines = string_array(md, "tokenizer.ggml.merges");
    std::vector<std::pair<std::string_view, std::string_view>> merges;
    merges.reserve(merge_lines.size());
    for (const std::string& m : merge_lines) {
      const size_t sp = m.find(' ');
      if (sp == std::string::npos)
        fail(ErrorCode::invalid_model_file, "[tokenizer] GGUF merge '{}' has no space", m);
      merges.emplace_back(std::string_view(m).substr(0, sp), std::string_view(m).substr(sp + 1));
    }
    // llama.cpp reads a missing tokenizer.ggml.pre as "default".
    const tok::GgufPreTokenizerSpec& pre = tok::gguf_pre_tokenizer_spec(md.get_string("tokenizer.ggml.pre", "default"));
    tok::BpeOptions opt;
    opt.ignore_merges = pre.ignore_merges;
    impl->normalizer = tok::make_gguf_normalizer(pre);
    impl->pre_tokenizer = tok::make_gguf_pre_tokenizer(pre);
    add_special_tokens(false);
    impl->model = tok::make_bpe_model(std::move(vocab), merges, std::move(opt));
    impl->decoder = tok::Decoder({tok::make_stage(tok::DecoderStage::Kind::byte_level)});
    if (md.get_bool("tokenizer.ggml.add_bos_token", pre.add_bos) && bos) impl->post_prefix.push_back(*bos);
    if (md.get_bool("tokenizer.ggml.add_eos_token", false) && eos) impl->post_suffix.push_back(*eos);
    if (md.get_bool("tokenizer.ggml.add_sep_token", pre.add_sep))
      if (const auto sep = token_id(md, "tokenizer.ggml.seperator_token_id", n)) impl->post_suffix.push_back(*sep);
  } else if (model == "bert") {
    // llama.cpp's converter writes word-initial pieces with a U+2581 prefix and continuation
    // pieces without "##"; undo that to get the WordPiece vocabulary back.
    bool cased = false;
    for (size_t i = 0; i < n; ++i) {
      std::string& s = vocab[i];
      if (types[i] == normal) {
        if (s.compare(0, metaspace.size(), metaspace) == 0) s.erase(0, metaspace.size());
        else s.insert(0, "##");
        for (char c : s) cased = cased || (c >= 'A' && c <= 'Z');
      }
    }
    add_special_tokens(false);
    const std::string unk_text = unk ? vocab[static_cast<size_t>(*unk)] : std::string("[UNK]");
    impl->model = tok::make_wordpiece_model(std::move(vocab), unk_text, "##", 100);
    impl->normalizer = tok::make_bert_normalizer(true, true, std::nullopt, !cased);
    impl->pre_tokenizer = tok::make_bert_pre_tokenizer();
    tok::DecoderStage wp = tok::make_stage(tok::DecoderStage::Kind::wordpiece, "##");
    wp.flag = true;
    impl->decoder = tok::Decoder({wp});
    const auto cls = token_id(md, "tokenizer.ggml.cls_token_id", n);
    const auto sep = token_id(md, "tokenizer.ggml.seperator_token_id", n);
    if (cls && sep) {
      impl->post_prefix.push_back(*cls);
      impl->post_suffix.push_back(*sep);
    }
  } else {
    fail(ErrorCode::unsupported, "[tokenizer] GGUF tokenizer model '{}' (tokenizer.ggml.model) is not supported", model);
  }
  impl->finalize();
  return impl;
}

}  // namespace ollm
