// Decoder stages, each a copy of the HF `tokenizers` decoder of the same name.
#include "tokenizer/decoder.hpp"

#include "tokenizer/normalizer.hpp"
#include "tokenizer/unicode.hpp"

namespace ollm::tok {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string wordpiece_cleanup(const std::string& in) {
  static constexpr std::pair<std::string_view, std::string_view> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  std::string s = in, tmp;
  for (const auto& [from, to] : rules) {
    if (s.find(from) == std::string::npos) continue;
    replace_all(s, from, to, tmp);
    s.swap(tmp);
  }
  return s;
}

void byte_level(std::vector<std::string>& tokens, bool make_valid) {
  const ByteLevelTable& t = byte_level_table();
  std::string bytes;
  for (const std::string& tok : tokens) {
    const size_t mark = bytes.size();
    bool all = true;
    for (size_t i = 0; i < tok.size();) {
      const char32_t cp = next_cp(tok, i);
      if (cp >= 0x180 || t.cp_to_byte[cp] < 0) { all = false; break; }
      bytes.push_back(static_cast<char>(t.cp_to_byte[cp]));
    }
    if (!all) {  // a token outside the byte alphabet (an added token) passes through as it is
      bytes.resize(mark);
      bytes.append(tok);
    }
  }
  tokens.assign(1, make_valid ? utf8_lossy(bytes) : std::move(bytes));
}

void byte_fallback(std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  std::string pending;
  auto flush = [&] {
    if (pending.empty()) return;
    if (valid_utf8_prefix(pending) == pending.size()) out.push_back(pending);
    else
      for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
    pending.clear();
  };
  for (std::string& tok : tokens) {
    if (auto b = byte_fallback_value(tok)) {
      pending.push_back(static_cast<char>(*b));
    } else {
      flush();
      out.push_back(std::move(tok));
    }
  }
  flush();
  tokens.swap(out);
}

void strip(std::vector<std::string>& tokens, std::string_view content, size_t start, size_t stop) {
  for (std::string& tok : tokens) {
    // Character boundaries of the token.
    std::vector<size_t> bounds;
    for (size_t i = 0; i < tok.size(); i += utf8_len(static_cast<unsigned char>(tok[i]))) bounds.push_back(i);
    bounds.push_back(tok.size());
    const size_t n = bounds.size() - 1;
    auto is_content = [&](size_t k) { return std::string_view(tok).substr(bounds[k], bounds[k + 1] - bounds[k]) == content; };
    size_t cut_start = 0;
    for (size_t k = 0; k < n && k < start; ++k) {
      if (is_content(k)) cut_start = k + 1;
      else break;
    }
    size_t cut_stop = n;
    for (size_t k = 0; k < stop && k < n; ++k) {
      const size_t index = n - k - 1;
      if (is_content(index)) cut_stop = index;
      else break;
    }
    if (cut_stop < cut_start) cut_stop = cut_start;
    tok = tok.substr(bounds[cut_start], bounds[cut_stop] - bounds[cut_start]);
  }
}

}  // namespace

std::optional<unsigned char> byte_fallback_value(std::string_view t) noexcept {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return std::nullopt;
  const char c0 = t[3], c1 = t[4];
  if (c0 == '+') {  // Rust's from_str_radix accepts a leading '+'
    const int v = hex_value(c1);
    return v < 0 ? std::nullopt : std::optional<unsigned char>(static_cast<unsigned char>(v));
  }
  const int hi = hex_value(c0), lo = hex_value(c1);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

Decoder::Decoder(std::vector<DecoderStage> stages) : stages_(std::move(stages)) {
  bool fused = false;
  for (const DecoderStage& s : stages_) {
    switch (s.kind) {
      case DecoderStage::Kind::fuse: fused = true; break;
      case DecoderStage::Kind::byte_fallback: byte_fallback_ = true; break;
      case DecoderStage::Kind::strip:
        if (s.stop > 0 && fused) streamable_ = false;
        if (fused && s.start > 0) strips_text_start_ = true;
        break;
      case DecoderStage::Kind::bpe_suffix: streamable_ = false; break;  // depends on the last token
      default: break;
    }
  }
}

std::string Decoder::decode(std::vector<std::string>& tokens, bool at_start) const {
  if (stages_.empty()) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 || !at_start) out.push_back(' ');
      out.append(tokens[i]);
    }
    return out;
  }
  for (size_t k = 0; k < stages_.size(); ++k) {
    const DecoderStage& s = stages_[k];
    switch (s.kind) {
      case DecoderStage::Kind::byte_level:
        byte_level(tokens, k + 1 < stages_.size());
        break;
      case DecoderStage::Kind::metaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string tmp;
          const bool drop = i == 0 && at_start && s.flag;
          replace_all(tokens[i], s.a, drop ? "" : " ", tmp);
          tokens[i].swap(tmp);
        }
        break;
      case DecoderStage::Kind::byte_fallback:
        byte_fallback(tokens);
        break;
      case DecoderStage::Kind::fuse: {
        std::string all;
        for (const std::string& t : tokens) all.append(t);
        tokens.assign(1, std::move(all));
        break;
      }
      case DecoderStage::Kind::strip:
        strip(tokens, s.a, (at_start || !strips_text_start_) ? s.start : 0, s.stop);
        break;
      case DecoderStage::Kind::replace:
        for (std::string& t : tokens) {
          std::string tmp;
          if (s.regex) {
            std::vector<std::pair<size_t, size_t>> m;
            s.regex->find_all(t, m);
            size_t prev = 0;
            for (auto [b, e] : m) {
              tmp.append(t, prev, b - prev).append(s.b);
              prev = e;
            }
            tmp.append(t, prev, std::string::npos);
          } else {
            if (s.a.empty()) continue;
            replace_all(t, s.a, s.b, tmp);
          }
          t.swap(tmp);
        }
        break;
      case DecoderStage::Kind::wordpiece:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string& t = tokens[i];
          if (i != 0 || !at_start) {
            if (t.compare(0, s.a.size(), s.a) == 0) t.erase(0, s.a.size());
            else t = std::string(" ").append(t);
          }
          if (s.flag) t = wordpiece_cleanup(t);
        }
        break;
      case DecoderStage::Kind::bpe_suffix:
        for (size_t i = 0; i < tokens.size(); ++i)
          tokens[i] = [&] {
            std::string tmp;
            replace_all(tokens[i], s.a, i + 1 == tokens.size() ? "" : " ", tmp);
            return tmp;
          }();
        break;
    }
  }
  std::string out;
  for (const std::string& t : tokens) out.append(t);
  return out;
}

}  // namespace ollm::tok
