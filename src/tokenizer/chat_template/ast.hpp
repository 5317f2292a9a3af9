// The parsed form of a template: expression and statement nodes, mirroring jinja2.nodes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

enum class ExprKind : uint8_t {
  literal,   // literal
  name,      // name
  nsref,     // name.attr as an assignment target (namespace attribute)
  list,      // args
  tuple,     // args
  dict,      // args: key, value, key, value...
  getattr,   // target.name
  getitem,   // target[args[0]]
  slice,     // args: start, stop, step (null when omitted); only inside getitem
  call,      // target(args, kwargs)
  filter,    // target | name(args, kwargs); target null inside filter blocks / set blocks
  test,      // target is [not] name(args, kwargs)
  not_,      // args[0]
  neg,       // args[0]
  pos,       // args[0]
  binary,    // args[0] name args[1]; name: + - * / // % **
  and_,      // args[0] and args[1]
  or_,       // args[0] or args[1]
  concat,    // args joined with ~
  compare,   // args[0] ops[0] args[1] ops[1] args[2]...
  condexpr,  // args: test, then, else (else may be null)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::literal;
  SourcePos pos;
  Value literal;
  std::string name;
  std::string attr;  // nsref attribute
  ExprPtr target;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // compare: == != < <= > >= in notin
  bool negated = false;          // test: "is not"
  // Filter/test implementation, resolved while parsing; nullptr for an unknown name inside an if
  // or an inline if, which jinja2 reports only when it is called.
  const void* builtin = nullptr;
  uint32_t height = 1;  // of the tree below this node, bounded while parsing (parser.hpp)
};

enum class StmtKind : uint8_t {
  text, output, if_, for_, set, set_block, macro, call_block, filter_block, with, break_, continue_, scope,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  StmtList body;
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
};

struct Stmt {
  StmtKind kind = StmtKind::text;
  SourcePos pos;
  std::string text;                 // text
  std::vector<ExprPtr> exprs;       // output: printed expressions; with: values
  ExprPtr target;                   // for / set / set_block target; with: unused
  std::vector<ExprPtr> targets;     // with: targets
  ExprPtr expr;                     // if: test; for: iterable; set: value; call_block: call; filter/set_block: filter chain
  ExprPtr condition;                // for ... if condition
  StmtList body, else_body;         // if / for / blocks
  std::shared_ptr<MacroDef> macro;  // macro, call_block (the caller's signature and body)
};

}  // namespace ollm::chat_template
