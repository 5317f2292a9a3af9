// Tree-walking evaluator: renders parsed statements against a variable dict with Jinja2's
// scoping (loops and macros get their own scope, if-blocks do not), Undefined semantics and
// the resource limits that keep hostile templates bounded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ollm/error.hpp"
#include "tokenizer/chat_template/ast.hpp"
#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;
  uint64_t max_loop_iterations = 10'000'000;  // all loops of one render together
  int max_call_depth = 128;                   // nested macro / caller() calls
  // Total work of one render: one unit per statement, expression evaluation, loop iteration and
  // macro call, per list item a builtin scans or builds, and per 64 bytes of text built. Bounds
  // the time of templates that stay under the other limits (a macro calling itself twice per level).
  uint64_t max_work = 50'000'000;
};

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent) : parent_(std::move(parent)) {}
  const Value* lookup(std::string_view name) const;
  void set(std::string_view name, Value value);

 private:
  std::shared_ptr<Scope> parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

class Evaluator {
 public:
  using StrftimeFn = std::function<std::string(const std::string& format)>;
  Evaluator(RenderLimits limits, StrftimeFn strftime_now);

  std::string render(const StmtList& program, const Dict& variables);

  // Used by filters, tests, globals and methods.
  Value call(const Value& callee, const CallArgs& args, SourcePos pos);
  Value get_attr(const Value& obj, std::string_view name, SourcePos pos);
  Value get_item(const Value& obj, const Value& key, SourcePos pos);
  // The items a for loop over `v` visits (dict keys, string characters...).
  std::vector<Value> iterate(const Value& v, SourcePos pos);
  void count_iterations(uint64_t n, SourcePos pos);
  // Adds `units` to the render's work (see RenderLimits::max_work); fails past the budget.
  void charge(uint64_t units, SourcePos pos);
  void charge_bytes(size_t bytes, SourcePos pos) { charge(bytes / 64, pos); }
  void check_size(size_t bytes, SourcePos pos) const;
  // check_size() for a result of `count` pieces of `piece` bytes, before building it (no overflow).
  void check_size(uint64_t count, uint64_t piece, std::string_view what, SourcePos pos) const;
  std::string strftime_now(const std::string& format) const { return strftime_(format); }
  // Errors that Python raises at run time (TypeError, UndefinedError...), with the position.
  [[noreturn]] void fail(SourcePos pos, const std::string& message) const;
  // Using an Undefined strictly (arithmetic, attribute, call): jinja2's UndefinedError.
  [[noreturn]] void fail_undefined(const Value& v, SourcePos pos) const;
  const RenderLimits& limits() const noexcept { return limits_; }
  // Most items one list may get from repetition, concatenation, padding or splitting a string:
  // one per 8 bytes of the output limit (8,388,608 by default), so a list's memory stays a small
  // multiple of the output limit.
  size_t max_items() const noexcept { return std::max<size_t>(limits_.max_output_bytes / 8, 1024); }
  // Objects that can hold references to each other (namespaces); released when the render ends.
  void track(const std::shared_ptr<Object>& object) { tracked_.push_back(object); }

 private:
  enum class Flow { normal, break_, continue_ };
  struct OutputGuard;
  // Bounds the C++ stack: nested expression/statement evaluation, macro calls included.
  static constexpr int max_eval_depth = 1000;
  struct DepthGuard {
    Evaluator& ev;
    DepthGuard(Evaluator& e, SourcePos pos) : ev(e) {
      if (++ev.eval_depth_ > max_eval_depth) {
        --ev.eval_depth_;
        ev.fail(pos, "evaluation nests deeper than 1000 levels");
      }
    }
    ~DepthGuard() { --ev.eval_depth_; }
  };

  Flow exec(const StmtList& body, const std::shared_ptr<Scope>& scope);
  Flow exec_one(const Stmt& s, const std::shared_ptr<Scope>& scope);
  Flow exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope);
  void assign(const Expr& target, Value value, const std::shared_ptr<Scope>& scope);
  std::string capture(const StmtList& body, const std::shared_ptr<Scope>& scope);
  Value make_macro(const std::shared_ptr<MacroDef>& def, const std::shared_ptr<Scope>& scope);
  Value invoke_macro(const MacroDef& def, const std::shared_ptr<Scope>& defining, const CallArgs& args);

  Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value eval_call(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* caller);
  CallArgs eval_args(const Expr& e, const std::shared_ptr<Scope>& scope);
  Value apply_filter(const Expr& e, Value input, const std::shared_ptr<Scope>& scope);
  Value lookup(const std::string& name, const std::shared_ptr<Scope>& scope) const;
  Value slice(const Value& obj, const Expr& s, const std::shared_ptr<Scope>& scope);
  Value binary(const std::string& op, const Value& a, const Value& b, SourcePos pos);
  bool compare(const std::string& op, const Value& a, const Value& b, SourcePos pos);
  bool contains(const Value& container, const Value& item, SourcePos pos);

  void emit(std::string_view text, SourcePos pos);

  RenderLimits limits_;
  StrftimeFn strftime_;
  std::shared_ptr<Scope> root_;
  std::string* out_ = nullptr;
  uint64_t iterations_ = 0;
  uint64_t work_ = 0;
  int call_depth_ = 0;
  int eval_depth_ = 0;
  std::vector<std::weak_ptr<Object>> tracked_;
};

}  // namespace ollm::chat_template
