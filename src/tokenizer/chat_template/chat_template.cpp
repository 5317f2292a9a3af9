// ollm::ChatTemplate: parsing, the variables transformers' apply_chat_template passes (with its
// message clean-up), JSON input through simdjson, and reading templates from model files.
#include "ollm/chat_template.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "ollm/gguf.hpp"
#include "tokenizer/chat_template/evaluator.hpp"
#include "tokenizer/chat_template/json_input.hpp"
#include "tokenizer/chat_template/parser.hpp"
#include "tokenizer/chat_template/text.hpp"
#include "util/fail.hpp"

namespace ollm {

namespace ct = chat_template;

struct ChatTemplate::Program {
  ct::StmtList body;
};

namespace {

ct::Value parse_json(simdjson::dom::parser& parser, std::string_view text, std::string_view what);

ct::Value from_json(simdjson::dom::element e, std::string_view what) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (e.get(arr)) return ct::Value::none();
      ct::ValueList items;
      for (simdjson::dom::element x : arr) items.push_back(from_json(x, what));
      return ct::Value::list(std::move(items));
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (e.get(obj)) return ct::Value::none();
      auto d = std::make_shared<ct::Dict>();
      for (simdjson::dom::key_value_pair field : obj) d->set(ct::Value(std::string(field.key)), from_json(field.value, what));
      return ct::Value::dict(std::move(d));
    }
    case element_type::INT64: {
      int64_t v = 0;
      if (e.get(v)) return ct::Value::none();
      return ct::Value(v);
    }
    case element_type::UINT64: {
      uint64_t v = 0;
      if (e.get(v)) return ct::Value::none();
      fail(ErrorCode::unsupported, "[chat-template] {}: integer {} is beyond the 64-bit range ollm supports", what, v);
    }
    case element_type::DOUBLE: {
      double v = 0;
      if (e.get(v)) return ct::Value::none();
      return ct::Value(v);
    }
    case element_type::STRING: {
      std::string_view v;
      if (e.get(v)) return ct::Value::none();
      return ct::Value(std::string(v));
    }
    case element_type::BOOL: {
      bool v = false;
      if (e.get(v)) return ct::Value::none();
      return ct::Value(v);
    }
    case element_type::NULL_VALUE: return ct::Value::none();
  }
  return ct::Value::none();
}

}  // namespace

namespace chat_template {

Value json_to_value(std::string_view text, std::string_view what) {
  simdjson::dom::parser parser;
  return parse_json(parser, text, what);
}

}  // namespace chat_template

namespace {

ct::Value parse_json(simdjson::dom::parser& parser, std::string_view text, std::string_view what) {
  simdjson::dom::element doc;
  if (const auto err = parser.parse(text.data(), text.size(), true).get(doc))
    fail(ErrorCode::invalid_argument, "[chat-template] {} is not valid JSON: {}", what, simdjson::error_message(err));
  return from_json(doc, what);
}

// transformers drops null-valued fields, then shows reasoning under "thinking" (first) and
// "reasoning_content" (chat_template_utils._alias_reasoning_fields).
ct::Value normalize_message(const ct::Value& m, size_t index) {
  if (!m.is_dict())
    fail(ErrorCode::invalid_argument, "[chat-template] message {} should be a JSON object, got {}", index,
         ct::py_repr(m));
  auto d = std::make_shared<ct::Dict>();
  for (const auto& [k, v] : m.as_dict().items)
    if (!v.is_none()) d->set(k, v);
  const ct::Value* reasoning = nullptr;
  for (const char* key : {"reasoning_content", "thinking", "reasoning"})
    if (!reasoning) reasoning = d->find(std::string_view(key));
  if (!reasoning) return ct::Value::dict(std::move(d));
  const ct::Value r = *reasoning;
  auto aliased = std::make_shared<ct::Dict>();
  aliased->set(ct::Value("thinking"), r);
  for (const auto& [k, v] : d->items) aliased->set(k, v);
  aliased->set(ct::Value("reasoning_content"), r);
  return ct::Value::dict(std::move(aliased));
}

// strftime() returns 0 both for an empty result and for a buffer too small; a trailing space
// makes every result non-empty, so 0 always means "grow", up to the output limit.
std::string format_time(const std::tm& tm, const std::string& format, size_t max_bytes) {
  if (format.empty()) return {};
  if (format.find('\0') != std::string::npos)
    fail(ErrorCode::invalid_argument, "[chat-template] strftime_now(): the format contains a NUL character");
  const std::string marked = format + ' ';
  size_t size = std::max<size_t>(64, marked.size() * 2);
  while (true) {
    std::string buf(size, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), marked.c_str(), &tm);
    if (n > 0) {
      buf.resize(n - 1);
      if (buf.size() > max_bytes) break;
      return buf;
    }
    if (size > max_bytes) break;
    size *= 2;
  }
  fail(ErrorCode::invalid_argument, "[chat-template] strftime_now(): the result of a {}-byte format exceeds the "
       "output limit of {} bytes", format.size(), max_bytes);
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::io, "[chat-template] cannot open '{}'", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ChatTemplate::ChatTemplate(std::shared_ptr<const Program> program, std::string source)
    : program_(std::move(program)), source_(std::move(source)) {}
ChatTemplate::ChatTemplate(const ChatTemplate&) = default;
ChatTemplate& ChatTemplate::operator=(const ChatTemplate&) = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

ChatTemplate ChatTemplate::parse(std::string source) {
  if (!ct::utf8_valid(source)) fail(ErrorCode::invalid_argument, "[chat-template] the template source is not valid UTF-8");
  auto program = std::make_shared<Program>();
  program->body = ct::parse_template(source);
  return ChatTemplate(std::move(program), std::move(source));
}

const std::string& ChatTemplate::source() const noexcept { return source_; }

const std::vector<std::pair<std::string, std::string>>& ChatTemplate::special_tokens() const noexcept {
  return special_tokens_;
}

void ChatTemplate::set_special_token(std::string name, std::string value) {
  for (auto& [k, v] : special_tokens_)
    if (k == name) {
      v = std::move(value);
      return;
    }
  special_tokens_.emplace_back(std::move(name), std::move(value));
}

std::string ChatTemplate::render(const ChatRequest& request) const {
  simdjson::dom::parser parser;
  ct::Dict vars;

  ct::ValueList messages;
  if (!request.messages_json.empty()) {
    const ct::Value parsed = parse_json(parser, request.messages_json, "messages_json");
    if (!parsed.is_list()) fail(ErrorCode::invalid_argument, "[chat-template] messages_json must be a JSON array");
    for (size_t i = 0; i < parsed.as_list().size(); ++i) messages.push_back(normalize_message(parsed.as_list()[i], i));
  } else {
    for (const auto& m : request.messages) {
      auto d = std::make_shared<ct::Dict>();
      d->set(ct::Value("role"), ct::Value(m.role));
      d->set(ct::Value("content"), ct::Value(m.content));
      messages.push_back(ct::Value::dict(std::move(d)));
    }
  }
  if (messages.empty())
    fail(ErrorCode::invalid_argument, "[chat-template] cannot apply a chat template to an empty conversation");
  for (const auto& m : messages)
    for (const auto& [k, v] : m.as_dict().items)
      if (v.is_string() && !ct::utf8_valid(v.as_string()))
        fail(ErrorCode::invalid_argument, "[chat-template] message text is not valid UTF-8");

  vars.set(ct::Value("messages"), ct::Value::list(std::move(messages)));
  vars.set(ct::Value("tools"), request.tools_json.empty() ? ct::Value::none()
                                                          : parse_json(parser, request.tools_json, "tools_json"));
  vars.set(ct::Value("documents"), ct::Value::none());
  vars.set(ct::Value("add_generation_prompt"), ct::Value(request.add_generation_prompt));
  for (const auto& [k, v] : special_tokens_) vars.set(ct::Value(k), ct::Value(v));
  if (request.bos_token) vars.set(ct::Value("bos_token"), ct::Value(*request.bos_token));
  if (request.eos_token) vars.set(ct::Value("eos_token"), ct::Value(*request.eos_token));
  if (!request.extra_variables_json.empty()) {
    const ct::Value extra = parse_json(parser, request.extra_variables_json, "extra_variables_json");
    if (!extra.is_dict()) fail(ErrorCode::invalid_argument, "[chat-template] extra_variables_json must be a JSON object");
    for (const auto& [k, v] : extra.as_dict().items) vars.set(k, v);
  }

  ct::RenderLimits limits;
  limits.max_output_bytes = request.limits.max_output_bytes;
  limits.max_loop_iterations = request.limits.max_loop_iterations;
  limits.max_call_depth = request.limits.max_call_depth;
  limits.max_work = request.limits.max_work;
  const std::optional<std::tm> fixed_now = request.now;
  const size_t max_bytes = limits.max_output_bytes;
  ct::Evaluator ev(limits, [fixed_now, max_bytes](const std::string& format) {
    std::tm tm{};
    if (fixed_now) {
      tm = *fixed_now;
    } else {
      const std::time_t t = std::time(nullptr);
      localtime_r(&t, &tm);
    }
    return format_time(tm, format, max_bytes);
  });
  return ev.render(program_->body, vars);
}

const std::string& ChatTemplateConfig::select(std::string_view name, bool has_tools) const {
  auto find = [&](std::string_view n) -> const std::string* {
    for (const auto& [k, v] : templates)
      if (k == n) return &v;
    return nullptr;
  };
  auto names = [&] {
    std::string s;
    for (const auto& t : templates) s += (s.empty() ? "" : ", ") + t.first;
    return s.empty() ? std::string("none") : s;
  };
  if (templates.empty()) fail(ErrorCode::not_found, "[chat-template] the model has no chat template");
  if (!name.empty()) {
    if (const auto* t = find(name)) return *t;
    fail(ErrorCode::not_found, "[chat-template] no chat template named '{}' (available: {})", name, names());
  }
  if (has_tools)
    if (const auto* t = find("tool_use")) return *t;
  if (const auto* t = find("default")) return *t;
  fail(ErrorCode::not_found, "[chat-template] no default chat template (available: {})", names());
}

ChatTemplate ChatTemplateConfig::load(std::string_view name, bool has_tools) const {
  ChatTemplate t = ChatTemplate::parse(select(name, has_tools));
  for (const auto& [k, v] : special_tokens) t.set_special_token(k, v);
  return t;
}

namespace {

// A special token is a string or an AddedToken object {"content": ...}; null or absent: none.
std::optional<std::string> token_text(simdjson::ondemand::value v) {
  std::string_view s;
  if (!v.get_string().get(s)) return std::string(s);
  simdjson::ondemand::object obj;
  if (v.get_object().get(obj)) return std::nullopt;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    if (key == "content" && !field.value().get_string().get(s)) return std::string(s);
  }
  return std::nullopt;
}

}  // namespace

// On-Demand parsing: tokenizer_config.json files carry values DOM parsing rejects (Llama 3's
// model_max_length is a 31-digit integer) in fields that do not matter here.
ChatTemplateConfig read_chat_template_config(std::string_view json_text, std::string_view source_name) {
  auto bad = [&](std::string_view what) {
    fail(ErrorCode::invalid_model_file, "[chat-template] {}: {}", source_name, what);
  };
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(json_text);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) bad("not a JSON object");
  ChatTemplateConfig config;
  static constexpr std::string_view token_keys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                                    "pad_token", "cls_token", "mask_token"};
  std::vector<std::pair<std::string, std::string>> tokens;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) bad("invalid JSON");
    simdjson::ondemand::value v;
    if (field.value().get(v)) bad("invalid JSON");
    if (key == "chat_template") {
      config.templates.clear();
      simdjson::ondemand::json_type type;
      if (v.type().get(type)) bad("invalid JSON");
      std::string_view text;
      if (type == simdjson::ondemand::json_type::string) {
        if (v.get_string().get(text)) bad("invalid chat_template string");
        config.templates.emplace_back("default", std::string(text));
      } else if (type == simdjson::ondemand::json_type::array) {
        for (auto item : v.get_array()) {
          simdjson::ondemand::object entry;
          if (item.get_object().get(entry)) bad("chat_template list entries must be objects");
          std::optional<std::string> name, body;
          for (auto f : entry) {
            std::string_view k, val;
            if (f.unescaped_key().get(k)) bad("invalid JSON");
            if ((k == "name" || k == "template") && f.value().get_string().get(val))
              bad("chat_template list entries need string names and templates");
            if (k == "name") name = std::string(val);
            else if (k == "template") body = std::string(val);
          }
          if (!name || !body) bad("chat_template list entries need a name and a template");
          config.templates.emplace_back(std::move(*name), std::move(*body));
        }
      } else if (type != simdjson::ondemand::json_type::null) {
        bad("chat_template must be a string or a list");
      }
      continue;
    }
    // Like transformers: the seven standard names, any other "*_token" key holding a token,
    // and the named entries of extra_special_tokens.
    if (key == "extra_special_tokens") {
      simdjson::ondemand::object extra;
      if (v.get_object().get(extra)) continue;  // a list names no variables
      for (auto f : extra) {
        std::string_view k;
        simdjson::ondemand::value tv;
        if (f.unescaped_key().get(k) || f.value().get(tv)) bad("invalid JSON");
        if (auto text = token_text(tv)) tokens.emplace_back(std::string(k), std::move(*text));
      }
    } else if (key.size() > 6 && key.substr(key.size() - 6) == "_token") {
      if (auto text = token_text(v)) tokens.emplace_back(std::string(key), std::move(*text));
    }
  }
  for (auto name : token_keys)  // standard names first, then the model's own, in file order
    for (auto& [k, v] : tokens)
      if (k == name) config.special_tokens.emplace_back(k, v);
  for (auto& [k, v] : tokens)
    if (std::find(std::begin(token_keys), std::end(token_keys), k) == std::end(token_keys))
      config.special_tokens.emplace_back(k, v);
  return config;
}

ChatTemplateConfig read_chat_template_config_file(const std::filesystem::path& path) {
  return read_chat_template_config(read_text_file(path), path.string());
}

ChatTemplateConfig chat_template_config_from_gguf(const GgufMetadata& metadata) {
  ChatTemplateConfig config;
  constexpr std::string_view prefix = "tokenizer.chat_template";
  for (const auto& [key, value] : metadata.entries()) {
    if (key.compare(0, prefix.size(), prefix) != 0 || value.type() != GgufValueType::string) continue;
    if (key.size() == prefix.size()) config.templates.emplace_back("default", value.to_string(key));
    else if (key[prefix.size()] == '.') config.templates.emplace_back(key.substr(prefix.size() + 1), value.to_string(key));
  }
  const GgufValue* tokens = metadata.find("tokenizer.ggml.tokens");
  if (tokens && tokens->type() == GgufValueType::array) {
    const auto* strings = std::get_if<std::vector<std::string>>(&tokens->to_array("tokenizer.ggml.tokens").items);
    for (const char* name : {"bos", "eos", "unk", "sep", "pad", "cls", "mask"}) {
      const GgufValue* id = metadata.find(fmt::format("tokenizer.ggml.{}_token_id", name));
      if (!id || !strings || !id->is_integer()) continue;
      const int64_t i = id->to_int64(name);
      if (i >= 0 && static_cast<size_t>(i) < strings->size())
        config.special_tokens.emplace_back(fmt::format("{}_token", name), (*strings)[static_cast<size_t>(i)]);
    }
  }
  return config;
}

}  // namespace ollm
