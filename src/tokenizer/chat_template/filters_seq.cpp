// Sequence filters of jinja2/filters.py that take attributes, tests or filters as arguments.
#include "tokenizer/chat_template/filters_seq.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tokenizer/chat_template/builtin_args.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Case-insensitive comparisons lower-case strings first, as jinja2's ignore_case().
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(py_lower(v.as_string()));
  return v;
}

bool less(Evaluator& ev, const Value& a, const Value& b, SourcePos pos) {
  bool ok = true;
  const int c = py_compare(a, b, ok);
  if (!ok)
    ev.fail(pos, fmt::format("'<' not supported between instances of '{}' and '{}'", type_name(a), type_name(b)));
  return c == -1;
}

// For select/reject (attr = false) and selectattr/rejectattr (attr = true).
Value select_common(Evaluator& ev, const Value& v, const CallArgs& a, bool attr, bool keep_when) {
  // jinja2's select_or_reject starts with `if value:`: None or an empty value yields nothing,
  // before any argument is looked at (functionary's `tools | selectattr(...)` with tools=None).
  if (!v.truthy()) return Value::list({}, ListFlavor::generator);
  const auto items = ev.iterate(v, a.pos);
  size_t next = 0;
  const Value* attribute = nullptr;
  if (attr) {
    if (a.positional.empty()) ev.fail(a.pos, "Missing parameter for attribute name");
    attribute = &a.positional[next++];
  }
  TestFn test = nullptr;
  CallArgs test_args;
  test_args.pos = a.pos;
  if (next < a.positional.size()) {
    const std::string name = py_str(a.positional[next++]);
    test = test_function(name);
    if (!test) ev.fail(a.pos, fmt::format("No test named '{}'.", name));
    test_args.positional.assign(a.positional.begin() + static_cast<std::ptrdiff_t>(next), a.positional.end());
    test_args.keyword = a.keyword;
  }
  ValueList out;
  for (const auto& item : items) {
    const Value probe = attribute ? attribute_of(ev, item, *attribute, a.pos) : item;
    const bool r = test ? test(ev, probe, test_args) : probe.truthy();
    if (r == keep_when) out.push_back(item);
  }
  return Value::list(std::move(out), ListFlavor::generator);
}

Value min_max(Evaluator& ev, const Value& v, const CallArgs& a, bool want_max) {
  const auto items = ev.iterate(v, a.pos);
  if (items.empty()) return Value::undefined(want_max ? "No aggregated item, sequence was empty." : "No aggregated item, sequence was empty.");
  const bool cs = bool_arg(a, 0, "case_sensitive", false);
  const Value* attribute = a.get(1, "attribute");
  auto key = [&](const Value& x) { return sort_key(attribute ? attribute_of(ev, x, *attribute, a.pos) : x, cs); };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (want_max ? less(ev, best_key, k, a.pos) : less(ev, k, best_key, a.pos)) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

}  // namespace

Value attribute_of(Evaluator& ev, const Value& item, const Value& attribute, SourcePos pos) {
  if (!attribute.is_string()) return ev.get_item(item, attribute, pos);
  Value cur = item;
  for (const auto& part : py_split(attribute.as_string(), std::string("."), -1)) {
    if (all_digits(part)) cur = ev.get_item(cur, Value(static_cast<int64_t>(std::stoll(part))), pos);
    else cur = ev.get_item(cur, Value(part), pos);
  }
  return cur;
}

Value f_map(Evaluator& ev, const Value& v, const CallArgs& a) {
  if (!v.truthy()) return Value::list({}, ListFlavor::generator);  // jinja2: `if value:` first
  const auto items = ev.iterate(v, a.pos);
  ValueList out;
  if (a.positional.empty()) {
    const Value* attribute = a.get(99, "attribute");
    if (!attribute) ev.fail(a.pos, "map() needs a filter name or attribute=");
    const Value* dflt = a.get(99, "default");
    for (const auto& item : items) {
      Value r = attribute_of(ev, item, *attribute, a.pos);
      out.push_back(r.is_undefined() && dflt ? *dflt : std::move(r));
    }
    return Value::list(std::move(out), ListFlavor::generator);
  }
  const std::string name = py_str(a.positional[0]);
  const FilterFn f = filter_function(name);
  if (!f) ev.fail(a.pos, fmt::format("No filter named '{}'.", name));
  CallArgs fargs;
  fargs.pos = a.pos;
  fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
  fargs.keyword = a.keyword;
  for (const auto& item : items) out.push_back(f(ev, item, fargs));
  return Value::list(std::move(out), ListFlavor::generator);
}

Value f_select(Evaluator& ev, const Value& v, const CallArgs& a) { return select_common(ev, v, a, false, true); }
Value f_reject(Evaluator& ev, const Value& v, const CallArgs& a) { return select_common(ev, v, a, false, false); }
Value f_selectattr(Evaluator& ev, const Value& v, const CallArgs& a) { return select_common(ev, v, a, true, true); }
Value f_rejectattr(Evaluator& ev, const Value& v, const CallArgs& a) { return select_common(ev, v, a, true, false); }

Value f_sort(Evaluator& ev, const Value& v, const CallArgs& a) {
  auto items = ev.iterate(v, a.pos);
  const bool reverse = bool_arg(a, 0, "reverse", false);
  const bool cs = bool_arg(a, 1, "case_sensitive", false);
  const Value* attribute = a.get(2, "attribute");
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) keyed.emplace_back(sort_key(attribute ? attribute_of(ev, item, *attribute, a.pos) : item, cs), item);
  // Python's sort with reverse=True keeps equal items in their original order too.
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? less(ev, y.first, x.first, a.pos) : less(ev, x.first, y.first, a.pos);
  });
  ValueList out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_dictsort(Evaluator& ev, const Value& v, const CallArgs& a) {
  if (!v.is_dict()) ev.fail(a.pos, "You can only sort by either 'key' or 'value' of a mapping");
  const bool cs = bool_arg(a, 0, "case_sensitive", false);
  const std::string by = str_arg(a, 1, "by").value_or("key");
  const bool reverse = bool_arg(a, 2, "reverse", false);
  if (by != "key" && by != "value") ev.fail(a.pos, "You can only sort by either 'key' or 'value'");
  std::vector<std::pair<Value, Value>> items = v.as_dict().items;
  std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
    const Value kx = sort_key(by == "key" ? x.first : x.second, cs);
    const Value ky = sort_key(by == "key" ? y.first : y.second, cs);
    return reverse ? less(ev, ky, kx, a.pos) : less(ev, kx, ky, a.pos);
  });
  ValueList out;
  for (auto& [k, val] : items) out.push_back(Value::list({k, val}, ListFlavor::tuple));
  return Value::list(std::move(out));
}

Value f_unique(Evaluator& ev, const Value& v, const CallArgs& a) {
  const auto items = ev.iterate(v, a.pos);
  const bool cs = bool_arg(a, 0, "case_sensitive", false);
  const Value* attribute = a.get(1, "attribute");
  ValueList out, seen;
  for (const auto& item : items) {
    Value k = sort_key(attribute ? attribute_of(ev, item, *attribute, a.pos) : item, cs);
    bool dup = false;
    ev.charge(seen.size(), a.pos);  // quadratic in the worst case: the work budget bounds it
    for (const auto& s : seen) dup = dup || py_equal(s, k);
    if (dup) continue;
    seen.push_back(std::move(k));
    out.push_back(item);
  }
  return Value::list(std::move(out), ListFlavor::generator);
}

Value f_min(Evaluator& ev, const Value& v, const CallArgs& a) { return min_max(ev, v, a, false); }
Value f_max(Evaluator& ev, const Value& v, const CallArgs& a) { return min_max(ev, v, a, true); }

Value f_sum(Evaluator& ev, const Value& v, const CallArgs& a) {
  const Value* attribute = a.get(0, "attribute");
  Value total = arg_or(a, 1, "start", Value(int64_t{0}));
  for (const auto& item : ev.iterate(v, a.pos)) {
    const Value x = attribute ? attribute_of(ev, item, *attribute, a.pos) : item;
    if (!total.is_number() || !x.is_number())
      ev.fail(a.pos, fmt::format("unsupported operand type(s) for +: '{}' and '{}'", type_name(total), type_name(x)));
    if (total.kind() == Kind::floating || x.kind() == Kind::floating) {
      total = Value(total.number() + x.number());
    } else {
      int64_t r = 0;
      if (__builtin_add_overflow(total.integer_value(), x.integer_value(), &r))
        template_fail(ErrorCode::unsupported, a.pos, "integer overflow in sum (Python integers are unbounded; ollm stops at 64 bits)");
      total = Value(r);
    }
  }
  return total;
}

Value f_batch(Evaluator& ev, const Value& v, const CallArgs& a) {
  const int64_t count = int_arg(ev, a, 0, "linecount", 1);
  if (count <= 0) ev.fail(a.pos, "batch() needs a positive line count");
  const Value* fill = a.get(1, "fill_with");
  // With fill_with the last batch is padded to `count` items: bound it before building it.
  const auto max_batch = static_cast<int64_t>(ev.max_items());
  if (fill && !fill->is_none() && count > max_batch)
    ev.fail(a.pos, fmt::format("batch({}) with fill_with pads beyond the {}-item limit", count, max_batch));
  if (fill && !fill->is_none()) ev.charge(static_cast<uint64_t>(count), a.pos);
  const auto items = ev.iterate(v, a.pos);
  ValueList out, tmp;
  for (const auto& item : items) {
    if (static_cast<int64_t>(tmp.size()) == count) {
      out.push_back(Value::list(std::move(tmp)));
      tmp.clear();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (fill && !fill->is_none())
      while (static_cast<int64_t>(tmp.size()) < count) tmp.push_back(*fill);
    out.push_back(Value::list(std::move(tmp)));
  }
  return Value::list(std::move(out), ListFlavor::generator);
}

}  // namespace ollm::chat_template
