// ollm::Tokenizer: the encode pipeline (added tokens -> normalizer -> pre-tokenizer -> model ->
// post-processor), decoding, vocabulary queries and the streaming detokenizer.
#include "ollm/tokenizer.hpp"


#include "ollm/model_spec.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode.hpp"
#include "util/fail.hpp"
#include "util/read_file.hpp"

namespace ollm {

void Tokenizer::Impl::finalize() {
  std::vector<tok::AddedToken> raw, norm;
  std::vector<std::string> raw_patterns, norm_patterns;
  std::string tmp;
  for (const tok::AddedToken& t : added) {
    if (t.normalized && normalizer) {
      std::string p = t.content;
      normalizer->normalize(p, tmp);
      norm.push_back(t);
      norm_patterns.push_back(std::move(p));
    } else if (t.normalized) {
      norm.push_back(t);
      norm_patterns.push_back(t.content);
    } else {
      raw.push_back(t);
      raw_patterns.push_back(t.content);
    }
  }
  raw_matcher.build(raw, raw_patterns);
  norm_matcher.build(norm, norm_patterns);
  size_t n = model ? model->vocab().tokens.size() : 0;
  for (const tok::AddedToken& t : added) n = std::max(n, static_cast<size_t>(t.id) + 1);
  added_of_id.assign(n, -1);
  special_of_id.assign(n, false);
  for (size_t i = 0; i < added.size(); ++i) {
    added_of_id[static_cast<size_t>(added[i].id)] = static_cast<int32_t>(i);
    special_of_id[static_cast<size_t>(added[i].id)] = added[i].special;
  }
}

size_t Tokenizer::Impl::vocab_size() const noexcept { return added_of_id.size(); }

const std::string* Tokenizer::Impl::token_string(int32_t id) const noexcept {
  if (id < 0 || static_cast<size_t>(id) >= added_of_id.size()) return nullptr;
  if (const int32_t a = added_of_id[static_cast<size_t>(id)]; a >= 0) return &added[static_cast<size_t>(a)].content;
  const auto& toks = model->vocab().tokens;
  if (static_cast<size_t>(id) >= toks.size() || toks[static_cast<size_t>(id)].empty()) return nullptr;
  return &toks[static_cast<size_t>(id)];
}

int32_t Tokenizer::Impl::find_token(std::string_view s) const noexcept {
  for (const tok::AddedToken& t : added)
    if (t.content == s) return t.id;
  return model->vocab().find(s);
}

std::vector<int32_t> Tokenizer::Impl::encode(std::string_view text, bool add_special, bool parse_special) const {
  // HF takes a Rust &str, always valid UTF-8; invalid bytes become U+FFFD first, as Python's
  // "replace" error handler or Rust's from_utf8_lossy would do.
  std::string repaired;
  if (tok::valid_utf8_prefix(text) != text.size()) {
    repaired = tok::utf8_lossy(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + post_prefix.size() + post_suffix.size() + 4);
  if (add_special) ids.insert(ids.end(), post_prefix.begin(), post_prefix.end());

  tok::PieceList list;
  auto run_text = [&](std::string_view s, bool at_start) {
    if (s.empty()) return;
    list.clear();
    list.arena.assign(s);
    list.pieces.push_back({0, static_cast<uint32_t>(s.size()), at_start});
    if (pre_tokenizer) pre_tokenizer->pre_tokenize(list);
    for (const tok::Piece& p : list.pieces) model->tokenize(list.view(p), ids);
  };

  std::vector<tok::Segment> segments, inner;
  if (raw_matcher.empty()) segments.push_back({0, text.size(), -1});
  else raw_matcher.split(text, parse_special, segments);
  std::string normalized, tmp;
  for (const tok::Segment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const std::string_view piece = text.substr(seg.begin, seg.end - seg.begin);
    std::string_view body = piece;
    if (normalizer) {
      normalized.assign(piece);
      normalizer->normalize(normalized, tmp);
      body = normalized;
    }
    if (norm_matcher.empty()) {
      run_text(body, seg.begin == 0);
      continue;
    }
    norm_matcher.split(body, parse_special, inner);
    for (const tok::Segment& s : inner) {
      if (s.id >= 0) ids.push_back(s.id);
      else run_text(body.substr(s.begin, s.end - s.begin), seg.begin == 0 && s.begin == 0);
    }
  }
  if (add_special) ids.insert(ids.end(), post_suffix.begin(), post_suffix.end());
  return ids;
}

void Tokenizer::Impl::id_tokens(std::span<const int32_t> ids, bool skip_special, std::vector<std::string>& out) const {
  out.clear();
  out.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* s = token_string(id);
    if (!s) continue;
    if (skip_special && special_of_id[static_cast<size_t>(id)]) continue;
    out.push_back(*s);
  }
}

// ---- public API ----

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(const Tokenizer&) = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

constexpr size_t json_padding = 64;  // SIMDJSON_PADDING

std::string read_file(const std::filesystem::path& path, std::string_view what) {
  // Only a missing entry reads as "does not exist": a symbolic link loop, a directory or a FIFO
  // reach the open, which names them (and never blocks on a FIFO).
  if (!path_entry_exists(path)) fail(ErrorCode::not_found, "[tokenizer] {} '{}' does not exist", what, path.string());
  // Zeroed slack after the text lets simdjson parse in place (it reads up to 64 bytes past the end).
  return read_regular_file(path, "tokenizer", json_padding);
}

}  // namespace

Tokenizer Tokenizer::from_json_files(const std::filesystem::path& tokenizer_json,
                                     const std::filesystem::path& tokenizer_config_json) {
  const std::string json = read_file(tokenizer_json, "tokenizer.json");
  const std::string config = tokenizer_config_json.empty() ? std::string{}
                                                           : read_file(tokenizer_config_json, "tokenizer_config.json");
  return Tokenizer(load_tokenizer_json(json, config, tokenizer_json.string(), json.capacity() >= json.size() + json_padding));
}

Tokenizer Tokenizer::from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json,
                               std::string_view source) {
  return Tokenizer(load_tokenizer_json(tokenizer_json, tokenizer_config_json, source));
}

Tokenizer Tokenizer::from_gguf(const GgufFile& file) { return Tokenizer(load_tokenizer_gguf(file)); }

Tokenizer Tokenizer::from_model_spec(const ModelSpec& spec) {
  if (!spec.tokenizer.tokenizer_json.empty())
    return from_json_files(spec.tokenizer.tokenizer_json, spec.tokenizer.tokenizer_config_json);
  if (spec.tokenizer.gguf) return from_gguf(*spec.tokenizer.gguf);
  fail(ErrorCode::not_found, "[tokenizer] model '{}' has neither a tokenizer.json nor GGUF tokenizer metadata",
       spec.path.string());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens, bool parse_special) const {
  return impl_->encode(text, add_special_tokens, parse_special);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  impl_->id_tokens(ids, skip_special, tokens);
  std::string bytes = impl_->decoder.decode(tokens, true);
  if (tok::valid_utf8_prefix(bytes) == bytes.size()) return bytes;
  return tok::utf8_lossy(bytes);
}

size_t Tokenizer::vocab_size() const noexcept { return impl_->vocab_size(); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const int32_t id = impl_->find_token(token);
  return id < 0 ? std::nullopt : std::optional<int32_t>(id);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  const std::string* s = impl_->token_string(id);
  return s ? *s : std::string{};
}

std::optional<int32_t> Tokenizer::bos_id() const noexcept { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const noexcept { return impl_->eos; }
std::optional<int32_t> Tokenizer::eot_id() const noexcept { return impl_->eot ? impl_->eot : impl_->eos; }

bool Tokenizer::is_special(int32_t id) const noexcept {
  return id >= 0 && static_cast<size_t>(id) < impl_->special_of_id.size() && impl_->special_of_id[static_cast<size_t>(id)];
}

std::string Tokenizer::model_type() const { return impl_->model->type_name(); }

// ---- streaming ----

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

namespace {

// Lossy-converts held + bytes, keeping a possibly incomplete trailing sequence in `held`.
std::string emit_bytes(std::string& held, std::string_view bytes) {
  std::string in = held;
  in.append(bytes);
  std::string out;
  tok::utf8_lossy_streaming(in, out, held);
  return out;
}

}  // namespace

std::string StreamingDetokenizer::step(int32_t id) {
  const Tokenizer::Impl& impl = tokenizer_->impl();
  pending_.push_back(id);
  if (!impl.decoder.streamable()) return {};
  if (impl.decoder.has_byte_fallback()) {
    // A run of byte tokens decodes as a group (invalid groups become one U+FFFD per byte):
    // wait until it ends.
    const std::string* s = impl.token_string(id);
    if (s && !(skip_special_ && tokenizer_->is_special(id)) && tok::byte_fallback_value(*s)) return {};
  }
  std::vector<std::string> tokens;
  impl.id_tokens(pending_, skip_special_, tokens);
  if (tokens.empty()) {
    pending_.clear();
    return {};
  }
  const std::string bytes = impl.decoder.decode(tokens, first_);
  if (first_ && impl.decoder.strips_text_start() && bytes.empty()) return {};
  pending_.clear();
  first_ = false;
  return emit_bytes(held_bytes_, bytes);
}

std::string StreamingDetokenizer::finish() {
  const Tokenizer::Impl& impl = tokenizer_->impl();
  std::string out;
  std::vector<std::string> tokens;
  impl.id_tokens(pending_, skip_special_, tokens);
  if (!tokens.empty()) out = emit_bytes(held_bytes_, impl.decoder.decode(tokens, first_));
  if (!held_bytes_.empty()) out.append(tok::utf8_lossy(held_bytes_));
  reset();
  return out;
}

void StreamingDetokenizer::reset() {
  first_ = true;
  pending_.clear();
  held_bytes_.clear();
}

}  // namespace ollm
