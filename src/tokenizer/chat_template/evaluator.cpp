// Statement execution: output, if, for (with the loop object), set, macros and caller(),
// filter/set blocks, with; the scopes they open and the render-wide limits.
#include "tokenizer/chat_template/evaluator.hpp"

#include <fmt/format.h>

#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/template_error.hpp"

namespace ollm::chat_template {

namespace {

// jinja2's LoopContext for the innermost `for`. Its methods hold the loop alive: a template may
// keep `loop.cycle` after the loop has ended.
struct LoopObject : Object, std::enable_shared_from_this<LoopObject> {
  std::shared_ptr<const std::vector<Value>> items;
  size_t index0 = 0;
  std::vector<Value> last_changed;
  bool has_changed = false;

  std::string_view type_name() const override { return "LoopContext"; }
  std::string str() const override { return fmt::format("<LoopContext {}/{}>", index0 + 1, items->size()); }
  Value get_attr(std::string_view name) override {
    const auto n = static_cast<int64_t>(items->size());
    const auto i = static_cast<int64_t>(index0);
    if (name == "index") return Value(i + 1);
    if (name == "index0") return Value(i);
    if (name == "revindex") return Value(n - i);
    if (name == "revindex0") return Value(n - i - 1);
    if (name == "first") return Value(i == 0);
    if (name == "last") return Value(i == n - 1);
    if (name == "length") return Value(n);
    if (name == "depth") return Value(int64_t{1});
    if (name == "depth0") return Value(int64_t{0});
    if (name == "previtem") return i > 0 ? (*items)[index0 - 1] : Value::undefined("there is no previous item");
    if (name == "nextitem") return i + 1 < n ? (*items)[index0 + 1] : Value::undefined("there is no next item");
    if (name == "cycle") {
      auto self = shared_from_this();
      return Value::callable(std::make_shared<Callable>(Callable{"loop.cycle", [self](Evaluator& ev, const CallArgs& a) {
        if (a.positional.empty()) ev.fail(a.pos, "no items for cycling given");
        return a.positional[self->index0 % a.positional.size()];
      }}));
    }
    if (name == "changed") {
      auto self = shared_from_this();
      return Value::callable(std::make_shared<Callable>(Callable{"loop.changed", [self](Evaluator&, const CallArgs& a) {
        bool changed = !self->has_changed || self->last_changed.size() != a.positional.size();
        for (size_t k = 0; !changed && k < a.positional.size(); ++k)
          changed = !py_equal(self->last_changed[k], a.positional[k]);
        if (changed) {
          self->last_changed = a.positional;
          self->has_changed = true;
        }
        return Value(changed);
      }}));
    }
    return Value::undefined(fmt::format("'LoopContext object' has no attribute '{}'", name));
  }
};

}  // namespace

const Value* Scope::lookup(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent_.get())
    for (auto it = s->vars_.rbegin(); it != s->vars_.rend(); ++it)
      if (it->first == name) return &it->second;
  return nullptr;
}

void Scope::set(std::string_view name, Value value) {
  for (auto& [k, v] : vars_)
    if (k == name) {
      v = std::move(value);
      return;
    }
  vars_.emplace_back(std::string(name), std::move(value));
}

struct Evaluator::OutputGuard {
  Evaluator& ev;
  std::string* saved;
  OutputGuard(Evaluator& e, std::string* buffer) : ev(e), saved(e.out_) { e.out_ = buffer; }
  ~OutputGuard() { ev.out_ = saved; }
};

Evaluator::Evaluator(RenderLimits limits, StrftimeFn strftime_now)
    : limits_(limits), strftime_(std::move(strftime_now)) {}

void Evaluator::fail(SourcePos pos, const std::string& message) const {
  template_fail(ErrorCode::invalid_argument, pos, "{}", message);
}

void Evaluator::fail_undefined(const Value& v, SourcePos pos) const {
  fail(pos, v.undefined_hint().empty() ? std::string("value is undefined") : v.undefined_hint());
}

void Evaluator::count_iterations(uint64_t n, SourcePos pos) {
  charge(n, pos);
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations)
    template_fail(ErrorCode::invalid_argument, pos, "the template ran more than {} loop iterations",
                  limits_.max_loop_iterations);
}

void Evaluator::charge(uint64_t units, SourcePos pos) {
  work_ += units;
  if (work_ > limits_.max_work)
    template_fail(ErrorCode::invalid_argument, pos,
                  "the template exceeded its work budget of {} steps (statements, expressions, loop iterations, "
                  "macro calls, items and bytes built); runaway recursion or loops?",
                  limits_.max_work);
}

void Evaluator::check_size(uint64_t count, uint64_t piece, std::string_view what, SourcePos pos) const {
  if (piece != 0 && count > limits_.max_output_bytes / piece)
    template_fail(ErrorCode::invalid_argument, pos, "{} would produce more than {} bytes (the output limit)", what,
                  limits_.max_output_bytes);
}

void Evaluator::check_size(size_t bytes, SourcePos pos) const {
  if (bytes > limits_.max_output_bytes)
    template_fail(ErrorCode::invalid_argument, pos, "the template produced more than {} bytes", limits_.max_output_bytes);
}

void Evaluator::emit(std::string_view text, SourcePos pos) {
  check_size(out_->size() + text.size(), pos);
  charge_bytes(text.size(), pos);
  out_->append(text);
}

std::string Evaluator::render(const StmtList& program, const Dict& variables) {
  root_ = std::make_shared<Scope>(nullptr);
  for (const auto& [k, v] : variables.items)
    if (k.is_string()) root_->set(k.as_string(), v);
  struct Release {  // on success and on error alike
    Evaluator& ev;
    ~Release() {
      ev.root_.reset();
      for (const auto& w : ev.tracked_)
        if (auto o = w.lock()) o->release();
      ev.tracked_.clear();
    }
  } release{*this};
  std::string out;
  OutputGuard guard(*this, &out);
  exec(program, root_);
  return out;
}

Evaluator::Flow Evaluator::exec(const StmtList& body, const std::shared_ptr<Scope>& scope) {
  for (const auto& s : body) {
    const Flow f = exec_one(*s, scope);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

std::string Evaluator::capture(const StmtList& body, const std::shared_ptr<Scope>& scope) {
  std::string buffer;
  OutputGuard guard(*this, &buffer);
  exec(body, scope);
  return buffer;
}

Evaluator::Flow Evaluator::exec_one(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  DepthGuard depth(*this, s.pos);
  charge(1, s.pos);
  switch (s.kind) {
    case StmtKind::text: emit(s.text, s.pos); return Flow::normal;
    case StmtKind::output:
      for (const auto& e : s.exprs) {
        const Value v = eval(*e, scope);
        if (v.is_string()) {
          emit(v.as_string(), e->pos);
        } else {
          std::string text;
          append_str(text, v);
          emit(text, e->pos);
        }
      }
      return Flow::normal;
    case StmtKind::if_:
      return exec(eval(*s.expr, scope).truthy() ? s.body : s.else_body, scope);
    case StmtKind::for_: return exec_for(s, scope);
    case StmtKind::set: assign(*s.target, eval(*s.expr, scope), scope); return Flow::normal;
    case StmtKind::set_block: {
      Value v(capture(s.body, std::make_shared<Scope>(scope)));
      if (s.expr) v = apply_filter(*s.expr, std::move(v), scope);
      assign(*s.target, std::move(v), scope);
      return Flow::normal;
    }
    case StmtKind::macro: scope->set(s.macro->name, make_macro(s.macro, scope)); return Flow::normal;
    case StmtKind::call_block: {
      const Value caller = make_macro(s.macro, scope);
      const Value result = eval_call(*s.expr, scope, &caller);
      std::string text;
      append_str(text, result);
      emit(text, s.pos);
      return Flow::normal;
    }
    case StmtKind::filter_block: {
      const Value v = apply_filter(*s.expr, Value(capture(s.body, std::make_shared<Scope>(scope))), scope);
      std::string text;
      append_str(text, v);
      emit(text, s.pos);
      return Flow::normal;
    }
    case StmtKind::with: {
      auto inner = std::make_shared<Scope>(scope);
      for (size_t i = 0; i < s.targets.size(); ++i) assign(*s.targets[i], eval(*s.exprs[i], scope), inner);
      return exec(s.body, inner);
    }
    case StmtKind::scope: return exec(s.body, scope);
    case StmtKind::break_: return Flow::break_;
    case StmtKind::continue_: return Flow::continue_;
  }
  return Flow::normal;
}

Evaluator::Flow Evaluator::exec_for(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  std::vector<Value> items = iterate(eval(*s.expr, scope), s.expr->pos);
  if (s.condition) {  // `for x in xs if cond`: filtered before the loop, so loop.* counts kept items
    std::vector<Value> kept;
    for (auto& item : items) {
      count_iterations(1, s.pos);
      auto probe = std::make_shared<Scope>(scope);
      assign(*s.target, item, probe);
      if (eval(*s.condition, probe).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) return s.else_body.empty() ? Flow::normal : exec(s.else_body, std::make_shared<Scope>(scope));

  auto loop = std::make_shared<LoopObject>();
  loop->items = std::make_shared<const std::vector<Value>>(std::move(items));
  const Value loop_value = Value::object(loop);
  for (size_t i = 0; i < loop->items->size(); ++i) {
    count_iterations(1, s.pos);
    loop->index0 = i;
    // Each iteration starts from a fresh scope: a `set` inside the body is not seen by the next one.
    auto inner = std::make_shared<Scope>(scope);
    assign(*s.target, (*loop->items)[i], inner);
    inner->set("loop", loop_value);
    if (exec(s.body, inner) == Flow::break_) break;
  }
  return Flow::normal;
}

void Evaluator::assign(const Expr& target, Value value, const std::shared_ptr<Scope>& scope) {
  if (target.kind == ExprKind::name) {
    scope->set(target.name, std::move(value));
    return;
  }
  if (target.kind == ExprKind::nsref) {
    const Value ns = lookup(target.name, scope);
    if (ns.kind() != Kind::object || ns.as_object()->type_name() != "Namespace")
      fail(target.pos, "cannot assign attribute on non-namespace object");
    if (!target.attr.empty() && target.attr[0] == '_')
      fail(target.pos, fmt::format("chat templates cannot store underscore-prefixed attributes on a namespace, "
                                   "but got '{}'", target.attr));
    ns.as_object()->set_attr(target.attr, std::move(value));
    return;
  }
  // Tuple unpacking.
  const std::vector<Value> items = iterate(value, target.pos);
  if (items.size() != target.args.size()) {
    if (items.size() > target.args.size())
      fail(target.pos, fmt::format("too many values to unpack (expected {})", target.args.size()));
    fail(target.pos, fmt::format("not enough values to unpack (expected {}, got {})", target.args.size(), items.size()));
  }
  for (size_t i = 0; i < items.size(); ++i) assign(*target.args[i], items[i], scope);
}

Value Evaluator::make_macro(const std::shared_ptr<MacroDef>& def, const std::shared_ptr<Scope>& scope) {
  // A weak link: the scope usually holds the macro itself. A macro that outlives its scope
  // falls back to the template's top-level variables.
  std::weak_ptr<Scope> defining = scope;
  auto fn = [def, defining](Evaluator& ev, const CallArgs& args) {
    std::shared_ptr<Scope> parent = defining.lock();
    if (!parent) parent = ev.root_;
    return ev.invoke_macro(*def, parent, args);
  };
  return Value::callable(std::make_shared<Callable>(Callable{def->name, std::move(fn)}));
}

Value Evaluator::invoke_macro(const MacroDef& def, const std::shared_ptr<Scope>& defining, const CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth)
    fail(args.pos, fmt::format("macro calls nest deeper than {} levels (runaway recursion?)", limits_.max_call_depth));
  struct CallDepth {
    int& d;
    explicit CallDepth(int& depth) : d(depth) { ++d; }
    ~CallDepth() { --d; }
  } call_depth(call_depth_);
  charge(1, args.pos);

  auto scope = std::make_shared<Scope>(defining);
  const size_t n_params = def.params.size();
  std::vector<std::pair<std::string, Value>> kwargs = args.keyword;
  auto take_kwarg = [&](const std::string& name, Value& out) {
    for (auto it = kwargs.begin(); it != kwargs.end(); ++it)
      if (it->first == name) {
        out = std::move(it->second);
        kwargs.erase(it);
        return true;
      }
    return false;
  };
  const size_t first_default = n_params - def.defaults.size();
  for (size_t i = 0; i < n_params; ++i) {
    Value v;
    if (i < args.positional.size()) {
      v = args.positional[i];
    } else if (!take_kwarg(def.params[i], v)) {
      if (i >= first_default) v = eval(*def.defaults[i - first_default], scope);
      else v = Value::undefined(fmt::format("parameter '{}' was not provided", def.params[i]));
    }
    scope->set(def.params[i], std::move(v));
  }
  if (def.uses_caller) {
    Value caller;
    if (!take_kwarg("caller", caller)) caller = Value::undefined("No caller defined");
    scope->set("caller", std::move(caller));
  }
  if (def.uses_kwargs) {
    auto d = std::make_shared<Dict>();
    for (auto& [k, v] : kwargs) d->set(Value(k), std::move(v));
    kwargs.clear();
    scope->set("kwargs", Value::dict(std::move(d)));
  } else if (!kwargs.empty()) {
    fail(args.pos, fmt::format("macro '{}' takes no keyword argument '{}'", def.name, kwargs.front().first));
  }
  if (def.uses_varargs) {
    ValueList rest;
    for (size_t i = n_params; i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
    scope->set("varargs", Value::list(std::move(rest), ListFlavor::tuple));
  } else if (args.positional.size() > n_params) {
    fail(args.pos, fmt::format("macro '{}' takes not more than {} argument(s)", def.name, n_params));
  }
  return Value(capture(def.body, scope));
}

Value Evaluator::lookup(const std::string& name, const std::shared_ptr<Scope>& scope) const {
  if (const Value* v = scope->lookup(name)) return *v;
  Value g = find_global(name);
  if (!g.is_undefined()) return g;
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

Value Evaluator::call(const Value& callee, const CallArgs& args, SourcePos pos) {
  if (callee.is_undefined()) fail_undefined(callee, pos);
  if (callee.kind() != Kind::callable) fail(pos, fmt::format("'{}' object is not callable", type_name(callee)));
  return callee.as_callable()->fn(*this, args);
}

}  // namespace ollm::chat_template
