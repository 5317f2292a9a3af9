// json.dumps re-implemented for template values (see json_dump.hpp).
#include "tokenizer/chat_template/json_dump.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

class Dumper {
 public:
  Dumper(Evaluator& ev, const JsonDumpOptions& o, SourcePos pos) : ev_(ev), o_(o), pos_(pos) {
    item_sep_ = o.item_separator.value_or(o.indent ? "," : ", ");
    key_sep_ = o.key_separator.value_or(": ");
  }

  void dump(const Value& v, int level) {
    if (level > 200) ev_.fail(pos_, "tojson: value nests too deeply");
    ev_.check_size(out_.size(), pos_);
    switch (v.kind()) {
      case Kind::none: out_ += "null"; return;
      case Kind::boolean: out_ += v.as_bool() ? "true" : "false"; return;
      case Kind::integer: fmt::format_to(std::back_inserter(out_), "{}", v.as_int()); return;
      case Kind::floating: out_ += float_text(v.as_float()); return;
      case Kind::string: json_quote(out_, v.as_string(), o_.ensure_ascii); return;
      case Kind::list: {
        const auto& items = v.as_list();
        if (v.list_flavor() != ListFlavor::list && v.list_flavor() != ListFlavor::tuple) not_serializable(v);
        if (items.empty()) {
          out_ += "[]";
          return;
        }
        out_ += '[';
        for (size_t i = 0; i < items.size(); ++i) {
          separate(i == 0, level + 1);
          dump(items[i], level + 1);
        }
        close(level);
        out_ += ']';
        return;
      }
      case Kind::dict: {
        const Dict& d = v.as_dict();
        if (d.size() == 0) {
          out_ += "{}";
          return;
        }
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : d.items) items.push_back(&kv);
        if (o_.sort_keys) {
          std::stable_sort(items.begin(), items.end(), [&](const auto* a, const auto* b) {
            bool ok = true;
            const int c = py_compare(a->first, b->first, ok);
            if (!ok)
              ev_.fail(pos_, fmt::format("'<' not supported between instances of '{}' and '{}'", type_name(b->first),
                                         type_name(a->first)));
            return c < 0;
          });
        }
        out_ += '{';
        for (size_t i = 0; i < items.size(); ++i) {
          separate(i == 0, level + 1);
          json_quote(out_, key_text(items[i]->first), o_.ensure_ascii);
          out_ += key_sep_;
          dump(items[i]->second, level + 1);
        }
        close(level);
        out_ += '}';
        return;
      }
      default: not_serializable(v);
    }
  }

  std::string take() { return std::move(out_); }

 private:
  static std::string float_text(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return py_float_repr(d);
  }

  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::string: return k.as_string();
      case Kind::boolean: return k.as_bool() ? "true" : "false";
      case Kind::none: return "null";
      case Kind::integer: return fmt::format("{}", k.as_int());
      case Kind::floating: return float_text(k.as_float());
      default: ev_.fail(pos_, fmt::format("keys must be str, int, float, bool or None, not {}", type_name(k)));
    }
  }

  void separate(bool first, int level) {
    if (!first) out_ += item_sep_;
    if (o_.indent) {
      out_ += '\n';
      for (int i = 0; i < level; ++i) out_ += *o_.indent;
    }
  }

  void close(int level) {
    if (!o_.indent) return;
    out_ += '\n';
    for (int i = 0; i < level; ++i) out_ += *o_.indent;
  }

  [[noreturn]] void not_serializable(const Value& v) {
    ev_.fail(pos_, fmt::format("Object of type {} is not JSON serializable", type_name(v)));
  }

  Evaluator& ev_;
  const JsonDumpOptions& o_;
  SourcePos pos_;
  std::string item_sep_, key_sep_;
  std::string out_;
};

}  // namespace

std::string json_dumps(Evaluator& ev, const Value& v, const JsonDumpOptions& options, SourcePos pos) {
  Dumper d(ev, options, pos);
  d.dump(v, 0);
  return d.take();
}

}  // namespace ollm::chat_template
