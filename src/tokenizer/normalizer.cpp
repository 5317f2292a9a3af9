// Normalizer implementations, each matching the HF `tokenizers` normalizer of the same name.
#include "tokenizer/normalizer.hpp"

#include <utility>

namespace ollm::tok {
namespace {

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm f) : form_(f) {}
  void normalize(std::string& s, std::string& tmp) const override {
    if (normalize_form(s, form_, tmp)) s.swap(tmp);
  }

 private:
  NormalForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(std::string& s, std::string& tmp) const override {
    tmp.clear();
    tmp.reserve(s.size());
    for (size_t i = 0; i < s.size();) append_lowercase(tmp, next_cp(s, i));
    s.swap(tmp);
  }
};

// HF StripAccents removes non-spacing marks only; decomposing first is left to an NFD/NFKD step.
class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(std::string& s, std::string& tmp) const override {
    tmp.clear();
    for (size_t i = 0; i < s.size();) {
      const size_t start = i;
      const char32_t c = next_cp(s, i);
      if (!is_mark_nonspacing(c)) tmp.append(s, start, i - start);
    }
    s.swap(tmp);
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& s, std::string& /*tmp*/) const override {
    size_t b = 0, e = s.size();
    if (left_) {
      while (b < e) {
        size_t j = b;
        if (!is_whitespace(next_cp(s, j))) break;
        b = j;
      }
    }
    if (right_) {
      while (e > b) {
        size_t k = e - 1;
        while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        size_t j = k;
        if (!is_whitespace(next_cp(s, j))) break;
        e = k;
      }
    }
    s = s.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string p) : prepend_(std::move(p)) {}
  void normalize(std::string& s, std::string& /*tmp*/) const override {
    if (!s.empty()) s.insert(0, prepend_);
  }

 private:
  std::string prepend_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(std::string pattern, bool regex, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {
    if (regex) regex_.emplace(pattern_, "Replace normalizer");
  }
  void normalize(std::string& s, std::string& tmp) const override {
    if (!regex_) {
      if (pattern_.empty() || s.find(pattern_) == std::string::npos) return;
      replace_all(s, pattern_, content_, tmp);
      s.swap(tmp);
      return;
    }
    thread_local std::vector<std::pair<size_t, size_t>> matches;
    regex_->find_all(s, matches);
    if (matches.empty()) return;
    tmp.clear();
    size_t prev = 0;
    for (auto [b, e] : matches) {
      tmp.append(s, prev, b - prev);
      tmp.append(content_);
      prev = e;
    }
    tmp.append(s, prev, std::string::npos);
    s.swap(tmp);
  }

 private:
  std::string pattern_, content_;
  std::optional<Regex> regex_;
};

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, bool strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  void normalize(std::string& s, std::string& tmp) const override {
    if (clean_ || chinese_) {
      tmp.clear();
      for (size_t i = 0; i < s.size();) {
        const size_t start = i;
        const char32_t c = next_cp(s, i);
        if (clean_) {
          if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
          if (c == '\t' || c == '\n' || c == '\r' || is_whitespace(c)) { tmp.push_back(' '); continue; }
        }
        if (chinese_ && is_chinese_char(c)) {
          tmp.push_back(' ');
          tmp.append(s, start, i - start);
          tmp.push_back(' ');
          continue;
        }
        tmp.append(s, start, i - start);
      }
      s.swap(tmp);
    }
    if (strip_) {
      if (normalize_form(s, NormalForm::nfd, tmp)) s.swap(tmp);
      strip_accents_.normalize(s, tmp);
    }
    if (lower_) lowercase_.normalize(s, tmp);
  }

 private:
  bool clean_, chinese_, strip_, lower_;
  StripAccentsNormalizer strip_accents_;
  LowercaseNormalizer lowercase_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<NormalizerPtr> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& s, std::string& tmp) const override {
    for (const auto& p : parts_) p->normalize(s, tmp);
  }

 private:
  std::vector<NormalizerPtr> parts_;
};

}  // namespace

void replace_all(std::string_view s, std::string_view from, std::string_view to, std::string& out) {
  out.clear();
  if (from.empty()) {  // nothing to find (and find("") would never advance)
    out.assign(s);
    return;
  }
  out.reserve(s.size() + s.size() / 4);
  size_t prev = 0;
  for (size_t pos = s.find(from); pos != std::string_view::npos; pos = s.find(from, prev)) {
    out.append(s.substr(prev, pos - prev));
    out.append(to);
    prev = pos + from.size();
  }
  out.append(s.substr(prev));
}

NormalizerPtr make_unicode_normalizer(NormalForm form) { return std::make_unique<UnicodeNormalizer>(form); }
NormalizerPtr make_lowercase_normalizer() { return std::make_unique<LowercaseNormalizer>(); }
NormalizerPtr make_strip_accents_normalizer() { return std::make_unique<StripAccentsNormalizer>(); }
NormalizerPtr make_strip_normalizer(bool left, bool right) { return std::make_unique<StripNormalizer>(left, right); }
NormalizerPtr make_prepend_normalizer(std::string prepend) {
  return std::make_unique<PrependNormalizer>(std::move(prepend));
}
NormalizerPtr make_replace_normalizer(std::string pattern, bool regex, std::string content) {
  return std::make_unique<ReplaceNormalizer>(std::move(pattern), regex, std::move(content));
}
NormalizerPtr make_bert_normalizer(bool clean_text, bool handle_chinese_chars, std::optional<bool> strip_accents,
                                   bool lowercase) {
  return std::make_unique<BertNormalizer>(clean_text, handle_chinese_chars, strip_accents.value_or(lowercase),
                                          lowercase);
}
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> parts) {
  return std::make_unique<SequenceNormalizer>(std::move(parts));
}

}  // namespace ollm::tok
