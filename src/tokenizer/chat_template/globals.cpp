// Global functions of the template environment: jinja2's range/namespace/cycler/joiner/dict
// and transformers' raise_exception and strftime_now.
#include <fmt/format.h>

#include "tokenizer/chat_template/builtin_args.hpp"
#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

constexpr int64_t max_range = 100000;  // jinja2.sandbox.MAX_RANGE

struct NamespaceObject : Object {
  Dict attrs;
  void release() override { attrs = Dict(); }
  std::string_view type_name() const override { return "Namespace"; }
  std::string str() const override { return "<Namespace " + py_str(Value::dict(std::make_shared<Dict>(attrs))) + ">"; }
  Value get_attr(std::string_view name) override {
    if (const Value* v = attrs.find(name)) return *v;
    return Value::undefined(fmt::format("'Namespace object' has no attribute '{}'", name));
  }
  bool set_attr(std::string_view name, Value value) override {
    attrs.set(Value(std::string(name)), std::move(value));
    return true;
  }
};

struct CyclerObject : Object, std::enable_shared_from_this<CyclerObject> {
  std::vector<Value> items;
  size_t pos = 0;
  std::string_view type_name() const override { return "Cycler"; }
  Value get_attr(std::string_view name) override {
    auto self = shared_from_this();  // the bound methods keep the cycler alive
    if (name == "current") return items[pos];
    if (name == "next")
      return Value::callable(std::make_shared<Callable>(Callable{"cycler.next", [self](Evaluator&, const CallArgs&) {
        Value v = self->items[self->pos];
        self->pos = (self->pos + 1) % self->items.size();
        return v;
      }}));
    if (name == "reset")
      return Value::callable(std::make_shared<Callable>(Callable{"cycler.reset", [self](Evaluator&, const CallArgs&) {
        self->pos = 0;
        return Value::none();
      }}));
    return Value::undefined(fmt::format("'Cycler object' has no attribute '{}'", name));
  }
};

void check_namespace_key(Evaluator& ev, const std::string& key, SourcePos pos) {
  if (!key.empty() && key[0] == '_')
    ev.fail(pos, fmt::format("chat templates cannot store underscore-prefixed attributes on a namespace, but got '{}'", key));
}

// dict(...)/namespace(...) arguments: an optional mapping or sequence of pairs, then keywords.
void fill_dict(Evaluator& ev, Dict& d, const CallArgs& a, bool namespace_keys) {
  if (a.positional.size() > 1) ev.fail(a.pos, fmt::format("expected at most 1 argument, got {}", a.positional.size()));
  if (!a.positional.empty()) {
    const Value& src = a.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.as_dict().items) {
        if (namespace_keys && k.is_string()) check_namespace_key(ev, k.as_string(), a.pos);
        d.set(k, v);
      }
    } else {
      for (const auto& pair : ev.iterate(src, a.pos)) {
        const auto kv = ev.iterate(pair, a.pos);
        if (kv.size() != 2) ev.fail(a.pos, "dictionary update sequence element has the wrong length; 2 is required");
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : a.keyword) {
    if (namespace_keys) check_namespace_key(ev, k, a.pos);
    d.set(Value(k), v);
  }
}

Value g_range(Evaluator& ev, const CallArgs& a) {
  if (!a.keyword.empty()) ev.fail(a.pos, "range() takes no keyword arguments");
  if (a.positional.empty() || a.positional.size() > 3)
    ev.fail(a.pos, fmt::format("range expected 1 to 3 arguments, got {}", a.positional.size()));
  int64_t v[3] = {0, 0, 1};
  for (size_t i = 0; i < a.positional.size(); ++i) {
    const Value& x = a.positional[i];
    if (x.is_undefined()) ev.fail_undefined(x, a.pos);
    if (x.kind() != Kind::integer && x.kind() != Kind::boolean)
      ev.fail(a.pos, fmt::format("'{}' object cannot be interpreted as an integer", type_name(x)));
    v[a.positional.size() == 1 ? 1 : i] = x.integer_value();
  }
  const int64_t start = v[0], stop = v[1], step = v[2];
  if (step == 0) ev.fail(a.pos, "range() arg 3 must not be zero");
  uint64_t n = 0;  // Python's range length, without overflow
  if (step > 0 && stop > start) {
    const uint64_t diff = static_cast<uint64_t>(stop) - static_cast<uint64_t>(start);
    const auto s = static_cast<uint64_t>(step);
    n = diff / s + (diff % s != 0);
  } else if (step < 0 && start > stop) {
    const uint64_t diff = static_cast<uint64_t>(start) - static_cast<uint64_t>(stop);
    const uint64_t s = step == INT64_MIN ? (uint64_t{1} << 63) : static_cast<uint64_t>(-step);
    n = diff / s + (diff % s != 0);
  }
  if (n > max_range) ev.fail(a.pos, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  ev.count_iterations(n, a.pos);
  ValueList out;
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) out.emplace_back(start + static_cast<int64_t>(i) * step);
  return Value::list(std::move(out));
}

Value g_namespace(Evaluator& ev, const CallArgs& a) {
  auto ns = std::make_shared<NamespaceObject>();
  ev.track(ns);
  fill_dict(ev, ns->attrs, a, true);
  return Value::object(std::move(ns));
}

Value g_dict(Evaluator& ev, const CallArgs& a) {
  auto d = std::make_shared<Dict>();
  fill_dict(ev, *d, a, false);
  return Value::dict(std::move(d));
}

Value g_raise_exception(Evaluator&, const CallArgs& a) {
  const Value* msg = a.get(0, "message");
  template_fail(ErrorCode::invalid_argument, a.pos, "raise_exception: {}", msg ? py_str(*msg) : std::string());
}

Value g_strftime_now(Evaluator& ev, const CallArgs& a) {
  const Value* f = a.get(0, "format");
  if (!f || !f->is_string()) ev.fail(a.pos, "strftime_now() takes a format string");
  return Value(ev.strftime_now(f->as_string()));
}

Value g_cycler(Evaluator& ev, const CallArgs& a) {
  if (a.positional.empty()) ev.fail(a.pos, "at least one item has to be provided");
  auto c = std::make_shared<CyclerObject>();
  c->items = a.positional;
  return Value::object(std::move(c));
}

Value g_joiner(Evaluator&, const CallArgs& a) {
  const std::string sep = str_arg(a, 0, "sep").value_or(", ");
  auto used = std::make_shared<bool>(false);
  return Value::callable(std::make_shared<Callable>(Callable{"joiner", [sep, used](Evaluator&, const CallArgs&) {
    if (!*used) {
      *used = true;
      return Value("");
    }
    return Value(sep);
  }}));
}

Value g_lipsum(Evaluator&, const CallArgs& a) { unsupported(a.pos, "lipsum()"); }

Value global_fn(const char* name, Value (*fn)(Evaluator&, const CallArgs&)) {
  return Value::callable(std::make_shared<Callable>(Callable{name, fn}));
}

}  // namespace

Value find_global(std::string_view name) {
  static const Value range = global_fn("range", g_range);
  static const Value ns = global_fn("namespace", g_namespace);
  static const Value dict = global_fn("dict", g_dict);
  static const Value raise = global_fn("raise_exception", g_raise_exception);
  static const Value strftime = global_fn("strftime_now", g_strftime_now);
  static const Value cycler = global_fn("cycler", g_cycler);
  static const Value joiner = global_fn("joiner", g_joiner);
  static const Value lipsum = global_fn("lipsum", g_lipsum);
  if (name == "range") return range;
  if (name == "namespace") return ns;
  if (name == "dict") return dict;
  if (name == "raise_exception") return raise;
  if (name == "strftime_now") return strftime;
  if (name == "cycler") return cycler;
  if (name == "joiner") return joiner;
  if (name == "lipsum") return lipsum;
  return Value();
}

}  // namespace ollm::chat_template
