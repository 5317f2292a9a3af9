// Recursive-descent parser from tokens to statements, following jinja2/parser.py's grammar and
// precedence; rejects tags and filters ollm does not implement with an "unsupported" error.
#pragma once

#include <string_view>

#include "tokenizer/chat_template/ast.hpp"

namespace ollm::chat_template {

// Nesting beyond this (parentheses, blocks, filters) is refused so hostile input cannot exhaust the stack.
inline constexpr int max_parse_depth = 200;
// Height of one expression tree: a left-deep chain (1+1+...+1, x|f|f|...|f) is built by loops, not
// recursion, so it needs its own bound; evaluating and freeing the tree recurse over its height.
// jinja2 itself fails with RecursionError between 300 and 500.
inline constexpr uint32_t max_expr_height = 300;

StmtList parse_template(std::string_view source);

}  // namespace ollm::chat_template
