// Jinja2's lexer, re-implemented rule for rule from jinja2/lexer.py (3.1) with the options
// transformers sets: trim_blocks and lstrip_blocks on, keep_trailing_newline off.
#include "tokenizer/chat_template/lexer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "tokenizer/chat_template/template_error.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

class Lexer {
 public:
  explicit Lexer(std::string_view source) {
    // Newlines become "\n" and one trailing newline is dropped, as jinja2 does before lexing.
    src_.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        src_ += '\n';
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_ += source[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;
    const size_t n = src_.size();
    while (pos < n) {
      const size_t tag = find_tag(pos);
      if (tag == std::string::npos) {
        emit_text(pos, n);
        break;
      }
      const char kind = src_[tag + 1];
      size_t p = tag + 2;
      char sign = 0;
      if (p < n && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      size_t raw_after = 0;
      const bool raw = kind == '%' && match_raw_begin(p, raw_after);
      emit_text(pos, text_end(pos, tag, sign, kind != '{', line_starting));
      if (kind == '#') {
        pos = skip_comment(tag, p, line_starting);
      } else if (raw) {
        pos = lex_raw(raw_after, line_starting);
      } else {
        push(kind == '%' ? Tok::block_begin : Tok::var_begin, "", tag);
        pos = lex_tag(p, kind == '%', line_starting);
      }
    }
    push(Tok::eof, "", src_.size());
    return std::move(out_);
  }

 private:
  // Tokens come in source order, so the column continues from the previous position on the same
  // line: counting from the line start each time made one long line quadratic to lex.
  SourcePos pos_at(size_t off) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off) - 1;
    const auto line = static_cast<size_t>(it - line_starts_.begin());
    const std::string_view src(src_);
    size_t column;
    if (line == cached_line_ && off >= cached_off_) column = cached_column_ + utf8_length(src.substr(cached_off_, off - cached_off_));
    else column = utf8_length(src.substr(*it, off - *it));
    cached_line_ = line;
    cached_off_ = off;
    cached_column_ = column;
    return {static_cast<uint32_t>(line + 1), static_cast<uint32_t>(column + 1)};
  }

  [[noreturn]] void syntax_error(size_t off, const std::string& what) const {
    template_fail(ErrorCode::invalid_model_file, pos_at(off), "syntax error: {}", what);
  }

  void push(Tok type, std::string value, size_t off) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    t.pos = pos_at(off);
    out_.push_back(std::move(t));
  }

  void emit_text(size_t b, size_t e) {
    if (e > b) push(Tok::text, src_.substr(b, e - b), b);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string::npos;
  }

  size_t skip_py_space(size_t p) const {
    while (p < src_.size()) {
      uint32_t cp;
      const size_t len = utf8_decode(src_, p, cp);
      if (!is_py_space(cp)) break;
      p += len;
    }
    return p;
  }

  // End of the text before a tag after the "-" strip or lstrip_blocks, as OptionalLStrip does.
  size_t text_end(size_t b, size_t e, char sign, bool lstrip_allowed, bool line_starting) const {
    std::string_view text = std::string_view(src_).substr(b, e - b);
    if (sign == '-') {
      size_t k = text.size();
      while (k > 0) {  // rstrip Python whitespace, code point by code point from the end
        size_t s = k - 1;
        while (s > 0 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
        uint32_t cp;
        utf8_decode(text, s, cp);
        if (!is_py_space(cp)) break;
        k = s;
      }
      return b + k;
    }
    if (sign == '+' || !lstrip_allowed) return e;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting) return e;
    if (l_pos == text.size()) return e;
    if (skip_py_space(b + l_pos) != e) return e;
    return b + l_pos;
  }

  bool match_raw_begin(size_t p, size_t& after) const {
    p = skip_py_space(p);
    if (src_.compare(p, 3, "raw") != 0) return false;
    p = skip_py_space(p + 3);
    if (src_.compare(p, 3, "-%}") == 0) {
      after = skip_py_space(p + 3);
      return true;
    }
    if (src_.compare(p, 2, "%}") == 0) {
      after = p + 2;
      return true;
    }
    return false;
  }

  // After a block end: "+%}" keeps what follows, "-%}" eats whitespace, "%}" eats one newline.
  size_t block_end_after(size_t p, char sign, bool& line_starting) const {
    size_t after = p;
    if (sign == '-') after = skip_py_space(p);
    else if (sign == 0 && after < src_.size() && src_[after] == '\n') ++after;
    line_starting = after > 0 && after != p && src_[after - 1] == '\n';
    return after;
  }

  size_t skip_comment(size_t tag, size_t content, bool& line_starting) const {
    const size_t j = src_.find("#}", content);
    if (j == std::string::npos) syntax_error(tag, "missing end of comment tag");
    char sign = 0;
    if (j > content && (src_[j - 1] == '-' || src_[j - 1] == '+')) sign = src_[j - 1];
    return block_end_after(j + 2, sign, line_starting);
  }

  size_t lex_raw(size_t data_begin, bool& line_starting) {
    // line_starting for the raw data is whether the raw tag itself ended with a newline.
    line_starting = data_begin > 0 && src_[data_begin - 1] == '\n';
    for (size_t i = src_.find("{%", data_begin); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t p = i + 2;
      char sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      p = skip_py_space(p);
      if (src_.compare(p, 6, "endraw") != 0) continue;
      p = skip_py_space(p + 6);
      char end_sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) end_sign = src_[p++];
      if (src_.compare(p, 2, "%}") != 0) continue;
      emit_text(data_begin, text_end(data_begin, i, sign, true, line_starting));
      return block_end_after(p + 2, end_sign, line_starting);
    }
    syntax_error(data_begin, "missing end of raw directive");
  }

  size_t lex_tag(size_t p, bool block, bool& line_starting) {
    std::vector<char> balance;
    const size_t n = src_.size();
    while (true) {
      p = skip_py_space(p);
      if (p >= n) syntax_error(p, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (balance.empty()) {
        if (block) {
          if (src_.compare(p, 3, "+%}") == 0 || src_.compare(p, 3, "-%}") == 0) {
            push(Tok::block_end, "", p);
            return block_end_after(p + 3, src_[p], line_starting);
          }
          if (src_.compare(p, 2, "%}") == 0) {
            push(Tok::block_end, "", p);
            return block_end_after(p + 2, 0, line_starting);
          }
        } else {
          if (src_.compare(p, 3, "-}}") == 0) {
            push(Tok::var_end, "", p);
            return block_end_after(p + 3, '-', line_starting);
          }
          if (src_.compare(p, 2, "}}") == 0) {
            push(Tok::var_end, "", p);
            line_starting = false;
            return p + 2;
          }
        }
      }
      const char c = src_[p];
      if (is_digit(c)) {
        p = lex_number(p);
      } else if (is_name_start(c)) {
        size_t e = p;
        while (e < n && is_name_char(src_[e])) ++e;
        push(Tok::name, src_.substr(p, e - p), p);
        p = e;
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        p = lex_operator(p, balance);
      }
    }
  }

  // Digits with single underscores between them ("1_000"); returns the end, or `p` if none.
  size_t digits(size_t p, bool (*ok)(char)) const {
    size_t e = p;
    while (e < src_.size() && ok(src_[e])) {
      ++e;
      if (e + 1 < src_.size() && src_[e] == '_' && ok(src_[e + 1])) ++e;
    }
    return e;
  }

  size_t lex_number(size_t p) {
    const auto dec = [](char c) { return is_digit(c); };
    const size_t n = src_.size();
    auto clean = [&](size_t b, size_t e) {
      std::string s;
      for (size_t i = b; i < e; ++i)
        if (src_[i] != '_') s += src_[i];
      return s;
    };
    const bool after_dot = p > 0 && src_[p - 1] == '.';
    size_t e = digits(p, +dec);
    if (!after_dot) {
      size_t f = e;
      bool is_float = false;
      if (f + 1 < n && src_[f] == '.' && is_digit(src_[f + 1])) {
        f = digits(f + 1, +dec);
        is_float = true;
      }
      if (f < n && src_[f] == 'e') {
        size_t x = f + 1;
        if (x < n && (src_[x] == '+' || src_[x] == '-')) ++x;
        if (x < n && is_digit(src_[x])) {
          f = digits(x, +dec);
          is_float = true;
        }
      }
      if (is_float) {
        push(Tok::floating, src_.substr(p, f - p), p);
        out_.back().float_value = std::strtod(clean(p, f).c_str(), nullptr);
        return f;
      }
    }
    int base = 10;
    size_t b = p;
    if (src_[p] == '0' && p + 1 < n && std::string_view("bBoOxX").find(src_[p + 1]) != std::string_view::npos) {
      const char k = static_cast<char>(src_[p + 1] | 0x20);
      base = k == 'b' ? 2 : k == 'o' ? 8 : 16;
      b = p + 2;
      if (b < n && src_[b] == '_') ++b;
      bool (*ok)(char) = base == 2    ? +[](char c) { return c == '0' || c == '1'; }
                         : base == 8  ? +[](char c) { return c >= '0' && c <= '7'; }
                                      : +[](char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
      e = digits(b, ok);
      if (e == b) syntax_error(p, "invalid integer literal");
    } else if (src_[p] == '0') {
      e = p + 1;  // "0", "0_0": a leading zero never starts a longer decimal literal
      while (e + 1 < n && src_[e] == '_' && src_[e + 1] == '0') e += 2;
      while (e < n && src_[e] == '0') ++e;
    }
    const std::string digits_text = clean(b, e);
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(digits_text.c_str(), &end, base);
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
      template_fail(ErrorCode::unsupported, pos_at(p), "integer literal {} is out of the 64-bit range ollm supports",
                    src_.substr(p, e - p));
    push(Tok::integer, src_.substr(p, e - p), p);
    out_.back().int_value = static_cast<int64_t>(v);
    return e;
  }

  static int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    c = static_cast<char>(c | 0x20);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
  }

  // String literal with Python "unicode-escape" decoding, as jinja2 applies to string tokens.
  size_t lex_string(size_t p) {
    const char quote = src_[p];
    std::string value;
    size_t i = p + 1;
    const size_t n = src_.size();
    while (true) {
      if (i >= n) syntax_error(p, "unterminated string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      if (i + 1 >= n) syntax_error(p, "unterminated string literal");
      const char e = src_[i + 1];
      i += 2;
      switch (e) {
        case '\n': break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case 'v': value += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < len; ++k) {
            const int h = i + k < n ? hex_value(src_[i + k]) : -1;
            if (h < 0) syntax_error(i - 2, fmt::format("truncated \\{} escape in string literal", e));
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          i += len;
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            template_fail(ErrorCode::unsupported, pos_at(i - len - 2),
                          "string escape for code point U+{:X} (a surrogate or out of range) is not supported", cp);
          utf8_append(value, cp);
          break;
        }
        case 'N': template_fail(ErrorCode::unsupported, pos_at(i - 2), "\\N{{...}} escapes in string literals are not supported");
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i < n && src_[i] >= '0' && src_[i] <= '7'; ++k) cp = cp * 8 + (src_[i++] - '0');
            utf8_append(value, cp);
          } else {
            value += '\\';  // unknown escapes stay as written
            value += e;
          }
      }
    }
    push(Tok::string, std::move(value), p);
    return i + 1;
  }

  size_t lex_operator(size_t p, std::vector<char>& balance) {
    static constexpr std::string_view two[] = {"//", "**", "==", "!=", "<=", ">="};
    for (auto op : two)
      if (src_.compare(p, 2, op) == 0) {
        push(Tok::op, std::string(op), p);
        return p + 2;
      }
    const char c = src_[p];
    if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos) {
      uint32_t cp;
      utf8_decode(src_, p, cp);
      std::string ch;
      utf8_append(ch, cp);
      syntax_error(p, fmt::format("unexpected char '{}'", ch));
    }
    if (c == '{') balance.push_back('}');
    else if (c == '(') balance.push_back(')');
    else if (c == '[') balance.push_back(']');
    else if (c == '}' || c == ')' || c == ']') {
      if (balance.empty()) syntax_error(p, fmt::format("unexpected '{}'", c));
      if (balance.back() != c) syntax_error(p, fmt::format("unexpected '{}', expected '{}'", c, balance.back()));
      balance.pop_back();
    }
    push(Tok::op, std::string(1, c), p);
    return p + 1;
  }

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;
  mutable size_t cached_line_ = SIZE_MAX, cached_off_ = 0, cached_column_ = 0;  // pos_at()'s last answer
};

}  // namespace

std::vector<Token> lex_template(std::string_view source) { return Lexer(source).run(); }

}  // namespace ollm::chat_template
