// Python's printf-style `%` formatting and str.format() over template values.
#include "tokenizer/chat_template/py_format.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "tokenizer/chat_template/builtin_args.hpp"
#include "tokenizer/chat_template/text.hpp"

namespace ollm::chat_template {
namespace {

// Pads `body` (code points counted as Python does) to `width` with `fill`.
std::string pad(const std::string& body, int64_t width, char align, const std::string& fill, size_t sign_len = 0) {
  const auto len = static_cast<int64_t>(utf8_length(body));
  if (width <= len) return body;
  const int64_t n = width - len;
  auto fills = [&](int64_t k) {
    std::string s;
    for (int64_t i = 0; i < k; ++i) s += fill;
    return s;
  };
  switch (align) {
    case '<': return body + fills(n);
    case '^': return fills(n / 2) + body + fills(n - n / 2);
    case '=': return body.substr(0, sign_len) + fills(n) + body.substr(sign_len);
    default: return fills(n) + body;
  }
}

std::string truncate_cps(const std::string& s, int64_t n) {
  if (n < 0) return s;
  const auto offs = utf8_offsets(s);
  if (static_cast<size_t>(n) >= offs.size() - 1) return s;
  return s.substr(0, offs[static_cast<size_t>(n)]);
}

}  // namespace

std::string py_percent_format(Evaluator& ev, const std::string& format, const Value& args, SourcePos pos) {
  std::vector<Value> positional;
  const Dict* mapping = nullptr;
  if (args.is_list() && args.list_flavor() == ListFlavor::tuple) positional = args.as_list();
  else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.as_dict();
  }
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) ev.fail(pos, "incomplete format");
    if (format[i] == '%') {
      out += '%';
      continue;
    }
    const Value* arg = nullptr;
    if (format[i] == '(') {
      const size_t close = format.find(')', i);
      if (close == std::string::npos) ev.fail(pos, "incomplete format key");
      if (!mapping) ev.fail(pos, "format requires a mapping");
      arg = mapping->find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!arg) ev.fail(pos, fmt::format("KeyError: '{}'", format.substr(i + 1, close - i - 1)));
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) flags += format[i++];
    std::string width, precision;
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) width += format[i++];
    if (i < format.size() && format[i] == '*') unsupported(pos, "'*' widths in % formatting");
    bool has_precision = false;
    if (i < format.size() && format[i] == '.') {
      has_precision = true;
      ++i;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) precision += format[i++];
    }
    while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
    if (i >= format.size()) ev.fail(pos, "incomplete format");
    const char conv = format[i];
    if (!arg) {
      if (next >= positional.size()) ev.fail(pos, "not enough arguments for format string");
      arg = &positional[next++];
    }
    if (width.size() > 6 || precision.size() > 6) unsupported(pos, "huge widths in % formatting");
    const int64_t w = width.empty() ? 0 : std::stoll(width);
    const int64_t p = precision.empty() ? (has_precision ? 0 : -1) : std::stoll(precision);
    const bool left = flags.find('-') != std::string::npos;
    std::string piece;
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        piece = truncate_cps(conv == 's' ? py_str(*arg) : py_repr(*arg), p);
        piece = pad(piece, w, left ? '<' : '>', " ");
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
      case 'c': {
        if (arg->is_undefined()) ev.fail_undefined(*arg, pos);
        if (conv == 'c') {
          if (arg->is_string() && utf8_length(arg->as_string()) == 1) piece = arg->as_string();
          else if (arg->kind() == Kind::integer && arg->as_int() >= 0 && arg->as_int() <= 0x10FFFF) utf8_append(piece, static_cast<uint32_t>(arg->as_int()));
          else ev.fail(pos, "%c requires an int or a unicode character");
          piece = pad(piece, w, left ? '<' : '>', " ");
          break;
        }
        if (!arg->is_number())
          ev.fail(pos, fmt::format("%{} format: a real number is required, not {}", conv, type_name(*arg)));
        const std::string spec = "%" + flags + width + (has_precision ? "." + precision : "");
        char buf[512];
        if (conv == 'd' || conv == 'i' || conv == 'u' || conv == 'x' || conv == 'X' || conv == 'o') {
          if (arg->kind() == Kind::floating && !std::isfinite(arg->as_float())) ev.fail(pos, "cannot convert float to integer");
          const long long v = arg->kind() == Kind::floating ? static_cast<long long>(arg->as_float()) : arg->integer_value();
          const char c = conv == 'i' || conv == 'u' ? 'd' : conv;
          std::snprintf(buf, sizeof buf, (spec + "ll" + c).c_str(), v);
        } else {
          std::snprintf(buf, sizeof buf, (spec + conv).c_str(), arg->number());
        }
        piece = buf;
        break;
      }
      default: ev.fail(pos, fmt::format("unsupported format character '{}'", conv));
    }
    out += piece;
    ev.check_size(out.size(), pos);
  }
  ev.charge_bytes(out.size(), pos);
  if (!used_mapping && next < positional.size() && !(mapping && next == 0))
    ev.fail(pos, "not all arguments converted during string formatting");
  return out;
}

namespace {

struct Spec {
  std::string fill = " ";
  char align = 0;
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int64_t width = 0;
  int64_t precision = -1;
  char type = 0;
};

Spec parse_spec(const std::string& s, SourcePos pos) {
  Spec sp;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (!s.empty()) {
    uint32_t cp;
    const size_t n = utf8_decode(s, 0, cp);
    if (n < s.size() && is_align(s[n])) {
      sp.fill = s.substr(0, n);
      sp.align = s[n];
      i = n + 1;
    } else if (is_align(s[0])) {
      sp.align = s[0];
      i = 1;
    }
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sp.sign = s[i++];
  if (i < s.size() && s[i] == '#') sp.alt = true, ++i;
  if (i < s.size() && s[i] == '0') sp.zero = true, ++i;
  std::string digits;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) digits += s[i++];
  if (digits.size() > 6) unsupported(pos, "huge format widths");
  if (!digits.empty()) sp.width = std::stoll(digits);
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) unsupported(pos, "digit grouping in format specs");
  if (i < s.size() && s[i] == '.') {
    ++i;
    digits.clear();
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) digits += s[i++];
    if (digits.empty() || digits.size() > 6) unsupported(pos, "this format precision");
    sp.precision = std::stoll(digits);
  }
  if (i < s.size()) sp.type = s[i++];
  if (i != s.size()) unsupported(pos, fmt::format("the format spec '{}'", s));
  return sp;
}

std::string format_value(Evaluator& ev, const Value& v, const std::string& spec_text, SourcePos pos) {
  if (spec_text.empty()) return py_str(v);
  const Spec sp = parse_spec(spec_text, pos);
  std::string fill = sp.fill;
  char align = sp.align;
  if (sp.zero && !align) fill = "0", align = '=';
  if (v.is_string() || v.is_undefined() || v.is_none() || v.is_list() || v.is_dict()) {
    if (sp.type && sp.type != 's') ev.fail(pos, fmt::format("Unknown format code '{}' for object of type '{}'", sp.type, type_name(v)));
    if (!v.is_string() && !v.is_undefined()) unsupported(pos, fmt::format("format specs on {} values", type_name(v)));
    return pad(truncate_cps(py_str(v), sp.precision), sp.width, align ? align : '<', fill);
  }
  if (!v.is_number()) unsupported(pos, fmt::format("format specs on {} values", type_name(v)));
  std::string body;
  const std::string sign = sp.sign == '-' ? "" : std::string(1, sp.sign);
  const bool is_float_type = sp.type && std::string_view("eEfFgG%").find(sp.type) != std::string_view::npos;
  if (sp.type == '%' || sp.type == 'n') unsupported(pos, fmt::format("the '{}' format type", sp.type));
  if (v.kind() != Kind::floating && !is_float_type) {
    if (sp.precision >= 0) ev.fail(pos, "Precision not allowed in integer format specifier");
    const char t = sp.type ? sp.type : 'd';
    if (std::string_view("dbxXoc").find(t) == std::string_view::npos)
      ev.fail(pos, fmt::format("Unknown format code '{}' for object of type 'int'", t));
    if (t == 'c') unsupported(pos, "the 'c' format type");
    body = fmt::format(fmt::runtime("{:" + sign + (sp.alt ? "#" : "") + std::string(1, t) + "}"), v.integer_value());
  } else {
    if (!sp.type && sp.precision < 0) {
      body = py_float_repr(v.number());
      if (!sign.empty() && !std::signbit(v.number())) body = sign + body;
    } else {
      if (!sp.type) unsupported(pos, "float formatting with a precision and no type");
      if (std::string_view("eEfFgG").find(sp.type) == std::string_view::npos)
        ev.fail(pos, fmt::format("Unknown format code '{}' for object of type 'float'", sp.type));
      const std::string prec = sp.precision >= 0 ? "." + std::to_string(sp.precision) : "";
      body = fmt::format(fmt::runtime("{:" + sign + (sp.alt ? "#" : "") + prec + std::string(1, sp.type) + "}"), v.number());
    }
  }
  const size_t sign_len = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
  return pad(body, sp.width, align ? align : '>', fill, sign_len);
}

}  // namespace

std::string py_str_format(Evaluator& ev, const std::string& format, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  const SourcePos pos = args.pos;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      ev.fail(pos, "Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) ev.fail(pos, "Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    if (field.find('{') != std::string::npos) unsupported(pos, "nested replacement fields in str.format");
    i = close;
    std::string spec;
    if (const size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    char conversion = 0;
    if (const size_t bang = field.find('!'); bang != std::string::npos) {
      if (bang + 2 != field.size()) ev.fail(pos, "expected ':' after conversion specifier");
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t name_end = 0;
    while (name_end < field.size() && field[name_end] != '.' && field[name_end] != '[') ++name_end;
    const std::string name = field.substr(0, name_end);
    Value v;
    if (name.empty()) {
      if (auto_index >= args.positional.size())
        ev.fail(pos, fmt::format("Replacement index {} out of range for positional args tuple", auto_index));
      v = args.positional[auto_index++];
    } else if (std::all_of(name.begin(), name.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      const size_t k = std::stoul(name);
      if (k >= args.positional.size()) ev.fail(pos, fmt::format("Replacement index {} out of range for positional args tuple", k));
      v = args.positional[k];
    } else {
      const Value* kw = nullptr;
      for (const auto& [key, val] : args.keyword)
        if (key == name) kw = &val;
      if (!kw) ev.fail(pos, fmt::format("KeyError: '{}'", name));
      v = *kw;
    }
    if (name_end < field.size()) unsupported(pos, "attribute and index lookups inside str.format fields");
    if (conversion == 'r' || conversion == 'a') v = Value(py_repr(v));
    else if (conversion == 's') v = Value(py_str(v));
    else if (conversion) ev.fail(pos, fmt::format("Unknown conversion specifier {}", conversion));
    out += format_value(ev, v, spec, pos);
    ev.check_size(out.size(), pos);
  }
  ev.charge_bytes(out.size(), pos);
  return out;
}

Value percent_format(Evaluator& ev, const Value& format, const Value& args, SourcePos pos) {
  if (!format.is_markup()) return Value(py_percent_format(ev, format.as_string(), args, pos));
  // markupsafe's _MarkupEscapeHelper: numbers format as numbers, everything else as escape(str(x)).
  auto escaped = [](const Value& x) { return x.is_number() || x.is_markup() ? x : Value(html_escape(py_str(x))); };
  Value safe_args;
  if (args.is_list() && args.list_flavor() == ListFlavor::tuple) {
    ValueList items;
    for (const Value& x : args.as_list()) items.push_back(escaped(x));
    safe_args = Value::list(std::move(items), ListFlavor::tuple);
  } else if (args.is_dict()) {
    auto d = std::make_shared<Dict>();
    for (const auto& [k, x] : args.as_dict().items) d->set(k, escaped(x));
    safe_args = Value::dict(std::move(d));
  } else {
    safe_args = escaped(args);
  }
  return Value::markup(py_percent_format(ev, format.as_string(), safe_args, pos));
}

}  // namespace ollm::chat_template
