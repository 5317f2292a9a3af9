// Splits Jinja2 template source into text and tag tokens with the whitespace rules Hugging Face
// configures (trim_blocks, lstrip_blocks, no trailing newline kept, "-"/"+" controls).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

enum class Tok : uint8_t { text, var_begin, var_end, block_begin, block_end, name, string, integer, floating, op, eof };

struct Token {
  Tok type = Tok::eof;
  std::string value;  // text, name, decoded string literal or operator spelling
  int64_t int_value = 0;
  double float_value = 0;
  SourcePos pos;
};

// Throws ollm::Error (invalid_model_file) on malformed source, naming line and column.
std::vector<Token> lex_template(std::string_view source);

}  // namespace ollm::chat_template
