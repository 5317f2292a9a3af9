// Chat templates: goldens from transformers' apply_chat_template on real model templates, one
// golden per Jinja feature from transformers' own Jinja environment, and the engine's errors.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ollm/chat_template.hpp"
#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "tokenizer/chat_template/evaluator.hpp"
#include "tokenizer/chat_template/json_input.hpp"
#include "tokenizer/chat_template/parser.hpp"

namespace fs = std::filesystem;
namespace ct = ollm::chat_template;

namespace {

const fs::path data_dir = fs::path(OLLM_TEST_DATA) / "chat_templates";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::tm fixed_now() {  // the time make_chat_template_goldens.py pins strftime_now to
  std::tm tm{};
  tm.tm_year = 2025 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 14;
  tm.tm_hour = 15;
  tm.tm_min = 9;
  tm.tm_sec = 26;
  tm.tm_wday = 5;
  tm.tm_yday = 72;
  return tm;
}

std::string escape_for_print(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

// Where two renderings part, with some context on both sides.
std::string first_difference(const std::string& expected, const std::string& actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return fmt::format("first difference at byte {} (expected {} bytes, got {}):\n  expected: ...{}...\n  actual:   ...{}...", i,
                     expected.size(), actual.size(), escape_for_print(expected.substr(from, 100)),
                     escape_for_print(actual.substr(from, 100)));
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(p));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string json_of(simdjson::dom::element e) { return simdjson::minify(e); }

std::string render_source(const std::string& source, const std::string& vars_json) {
  const ct::StmtList program = ct::parse_template(source);
  const ct::Value vars = ct::json_to_value(vars_json, "vars");
  const std::tm now = fixed_now();
  ct::Evaluator ev({}, [now](const std::string& format) {
    char buf[256];
    const size_t n = std::strftime(buf, sizeof buf, format.c_str(), &now);
    return std::string(buf, n);
  });
  return ev.render(program, vars.as_dict());
}

ollm::ErrorCode code_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const ollm::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ollm::ErrorCode::ok;
}

}  // namespace

TEST_CASE("chat template engine matches jinja2 as transformers configures it") {
  const auto lines = read_lines(data_dir / "engine_goldens.jsonl");
  REQUIRE(lines.size() > 100);
  simdjson::dom::parser parser;
  int passed = 0;
  for (const auto& line : lines) {
    simdjson::dom::element row = parser.parse(line);
    const std::string name(row["name"].get_string().value());
    const std::string source(row["template"].get_string().value());
    const std::string vars = json_of(row["vars"]);
    CAPTURE(name);
    CAPTURE(source);
    std::string_view expected, error;
    if (!row["expected"].get(expected)) {
      std::string actual;
      std::string failure;
      try {
        actual = render_source(source, vars);
      } catch (const ollm::Error& e) {
        failure = e.what();
      }
      INFO(failure);
      if (actual != expected) FAIL_CHECK(first_difference(std::string(expected), actual));
      else ++passed;
    } else {
      REQUIRE(!row["error"].get(error));
      std::string message;
      const auto code = code_of([&] { render_source(source, vars); }, &message);
      INFO("jinja2 said: " << error);
      CHECK_MESSAGE(code != ollm::ErrorCode::ok, "ollm rendered where jinja2 raised");
      CHECK(std::string_view(message).substr(0, 15) == "[chat-template]");
      if (error.substr(0, 15) == "TemplateError: ") CHECK(message.find(error.substr(15)) != std::string::npos);
      if (code != ollm::ErrorCode::ok) ++passed;
    }
  }
  MESSAGE(fmt::format("{} of {} engine goldens match", passed, lines.size()));
}

TEST_CASE("real chat templates match transformers' apply_chat_template") {
  const auto lines = read_lines(data_dir / "goldens.jsonl");
  REQUIRE(lines.size() > 200);
  const fs::path configs = OLLM_CHAT_TEMPLATE_CONFIGS;
  simdjson::dom::parser parser;
  std::map<std::string, std::pair<int, int>> tally;  // template -> (passed, total)
  int skipped = 0;
  for (const auto& line : lines) {
    simdjson::dom::element row = parser.parse(line);
    const std::string name(row["template"].get_string().value());
    const std::string case_name(row["case"].get_string().value());
    const bool agp = row["add_generation_prompt"].get_bool().value();
    CAPTURE(name);
    CAPTURE(case_name);
    CAPTURE(agp);

    std::map<std::string, std::string> special;
    simdjson::dom::object tokens = row["special_tokens"].get_object().value();  // a named copy: no dangling temporary
    for (auto [k, v] : tokens) special[std::string(k)] = std::string(v.get_string().value());

    std::optional<ollm::ChatTemplate> tmpl;
    const fs::path file = data_dir / (name + ".jinja");
    if (fs::exists(file)) {
      tmpl = ollm::ChatTemplate::parse(read_file(file));
      for (const auto& [k, v] : special) tmpl->set_special_token(k, v);
    } else {
      const fs::path config_path = configs / name / "tokenizer_config.json";
      if (!fs::exists(config_path)) {
        ++skipped;
        continue;
      }
      const auto config = ollm::read_chat_template_config_file(config_path);
      // The helper must find the special tokens transformers did, except class defaults that
      // are not in the file (GemmaTokenizer's mask_token).
      std::map<std::string, std::string> found(config.special_tokens.begin(), config.special_tokens.end());
      for (const auto& entry : special) {
        const auto& k = entry.first;  // not a structured binding: clang 14 cannot capture those
        const auto& v = entry.second;
        CAPTURE(k);
        if (!found.count(k) && k == "mask_token") continue;
        CHECK(found[k] == v);
      }
      CHECK(found.size() <= special.size());
      tmpl = config.load();
    }

    ollm::ChatRequest req;
    req.messages_json = json_of(row["messages"]);
    if (!row["tools"].is_null()) req.tools_json = json_of(row["tools"]);
    req.extra_variables_json = json_of(row["extra"]);
    req.add_generation_prompt = agp;
    req.now = fixed_now();

    auto& [passed, total] = tally[name];
    ++total;
    std::string_view expected, error;
    if (!row["expected"].get(expected)) {
      std::string actual, failure;
      try {
        actual = tmpl->render(req);
      } catch (const ollm::Error& e) {
        failure = e.what();
      }
      INFO(failure);
      if (actual != expected) FAIL_CHECK(first_difference(std::string(expected), actual));
      else ++passed;
    } else {
      REQUIRE(!row["error"].get(error));
      std::string message;
      const auto code = code_of([&] { tmpl->render(req); }, &message);
      INFO("transformers said: " << error);
      CHECK_MESSAGE(code == ollm::ErrorCode::invalid_argument, message);
      if (error.substr(0, 15) == "TemplateError: ") CHECK(message.find(error.substr(15)) != std::string::npos);
      if (code == ollm::ErrorCode::invalid_argument) ++passed;
    }
  }
  for (const auto& [name, t] : tally) MESSAGE(fmt::format("{}: {} of {} goldens match", name, t.first, t.second));
  if (skipped) MESSAGE(fmt::format("{} goldens skipped: shared tokenizer archives not extracted", skipped));
}

TEST_CASE("chat template errors name the construct and the position") {
  std::string msg;
  CHECK(code_of([] { ollm::ChatTemplate::parse("line one\n{{ 1 + }}"); }, &msg) == ollm::ErrorCode::invalid_model_file);
  CHECK(msg.find("[chat-template] line 2:") == 0);

  CHECK(code_of([] { ollm::ChatTemplate::parse("{{ x|urlize }}"); }, &msg) == ollm::ErrorCode::unsupported);
  CHECK(msg == "[chat-template] line 1:6: the 'urlize' filter is not supported");

  CHECK(code_of([] { ollm::ChatTemplate::parse("\n  {% include 'x' %}"); }, &msg) == ollm::ErrorCode::unsupported);
  CHECK(msg == "[chat-template] line 2:6: the 'include' tag is not supported in chat templates");

  CHECK(code_of([] { ollm::ChatTemplate::parse("{% for x in xs recursive %}{% endfor %}"); }, &msg) ==
        ollm::ErrorCode::unsupported);
  CHECK(code_of([] { ollm::ChatTemplate::parse("{{ f(*args) }}"); }, &msg) == ollm::ErrorCode::unsupported);
  CHECK(code_of([] { ollm::ChatTemplate::parse("{{ 99999999999999999999 }}"); }, &msg) == ollm::ErrorCode::unsupported);
  CHECK(code_of([] { ollm::ChatTemplate::parse("{{ 1|nope }}"); }, &msg) == ollm::ErrorCode::invalid_model_file);
  CHECK(msg == "[chat-template] line 1:6: no filter named 'nope'");
  CHECK(code_of([] { ollm::ChatTemplate::parse("{% if x %}"); }, &msg) == ollm::ErrorCode::invalid_model_file);
  CHECK(msg.find("expected 'elif' or 'else' or 'endif'") != std::string::npos);
  CHECK(code_of([] { ollm::ChatTemplate::parse(std::string("{{ '\xff' }}")); }, &msg) == ollm::ErrorCode::invalid_argument);

  ollm::ChatRequest req;
  req.messages = {{"user", "hi"}};
  const auto render = [&](const char* source) { return ollm::ChatTemplate::parse(source).render(req); };
  CHECK(code_of([&] { render("a\n  {{ raise_exception('no way') }}"); }, &msg) == ollm::ErrorCode::invalid_argument);
  CHECK(msg == "[chat-template] line 2:6: raise_exception: no way");
  CHECK(code_of([&] { render("{{ messages[0].nope.deeper }}"); }, &msg) == ollm::ErrorCode::invalid_argument);
  CHECK(msg == "[chat-template] line 1:20: 'dict object' has no attribute 'nope'");
  CHECK(code_of([&] { render("{{ 'x'.zfill(3) }}"); }, &msg) == ollm::ErrorCode::unsupported);
  CHECK(msg.find("str.zfill") != std::string::npos);
}

TEST_CASE("hostile templates hit clear limits") {
  ollm::ChatRequest req;
  req.messages = {{"user", "hi"}};
  std::string msg;
  const auto render = [&](const std::string& source) { return ollm::ChatTemplate::parse(source).render(req); };
  CHECK(code_of([&] { render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"); }, &msg) ==
        ollm::ErrorCode::invalid_argument);
  CHECK(msg.find("macro calls nest deeper than 128") != std::string::npos);
  CHECK(code_of([&] { render("{% for a in range(100000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}"); }, &msg) ==
        ollm::ErrorCode::invalid_argument);
  CHECK(msg.find("loop iterations") != std::string::npos);
  req.limits.max_output_bytes = 1000;
  CHECK(code_of([&] { render("{% for a in range(2000) %}x{% endfor %}"); }, &msg) == ollm::ErrorCode::invalid_argument);
  CHECK(msg.find("more than 1000 bytes") != std::string::npos);
  CHECK(code_of([&] { render("{{ 'x' * 100000000000 }}"); }, &msg) == ollm::ErrorCode::invalid_argument);
  CHECK(code_of([&] { render("{{" + std::string(5000, '(') + "1" + std::string(5000, ')') + "}}"); }, &msg) ==
        ollm::ErrorCode::invalid_argument);
  CHECK(msg.find("nests deeper") != std::string::npos);
  CHECK(code_of([&] { render("{{ 9223372036854775807 + 1 }}"); }, &msg) == ollm::ErrorCode::unsupported);
  // Bound methods outlive their loop / cycler, and namespaces that reference each other are freed.
  req.limits.max_output_bytes = 1000;
  CHECK(render("{% set ns = namespace() %}{% for x in [1] %}{% set ns.c = loop.cycle %}{% endfor %}{{ ns.c('a', 'b') }}"
               "{% set ns.n = cycler(1, 2).next %}{{ ns.n() }}{% set ns.me = ns %}{{ ns.me.me.n() }}") == "a12");
}

TEST_CASE("chat request inputs") {
  const auto t = ollm::ChatTemplate::parse(
      "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}|{{ m.thinking }}|{% endfor %}"
      "{{ tools is none }}{{ extra }}{{ add_generation_prompt }}{{ strftime_now('%Y') }}");
  ollm::ChatRequest req;
  std::string msg;
  CHECK(code_of([&] { t.render(req); }, &msg) == ollm::ErrorCode::invalid_argument);  // empty conversation
  req.messages_json = R"([{"role": "assistant", "content": "a", "reasoning_content": "r", "x": null}])";
  req.bos_token = "<s>";
  req.extra_variables_json = R"({"extra": 7})";
  req.now = fixed_now();
  CHECK(t.render(req) == "<s>assistant:a|r|True7False2025");
  req.messages_json = "[1]";
  CHECK(code_of([&] { t.render(req); }, &msg) == ollm::ErrorCode::invalid_argument);
  req.messages_json = "[{";
  CHECK(code_of([&] { t.render(req); }, &msg) == ollm::ErrorCode::invalid_argument);
  CHECK(msg.find("messages_json is not valid JSON") != std::string::npos);
}

TEST_CASE("chat template config from tokenizer_config.json and GGUF") {
  auto c = ollm::read_chat_template_config(
      R"({"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}],
          "bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>", "pad_token": null})");
  CHECK(c.select() == "D");
  CHECK(c.select({}, true) == "T");
  CHECK(c.select("tool_use") == "T");
  CHECK(code_of([&] { c.select("rag"); }) == ollm::ErrorCode::not_found);
  CHECK(c.special_tokens == std::vector<std::pair<std::string, std::string>>{{"bos_token", "<s>"}, {"eos_token", "</s>"}});
  CHECK(c.load().special_tokens().size() == 2);

  c = ollm::read_chat_template_config(R"({"chat_template": "{{ bos_token }}x"})");
  CHECK(c.select({}, true) == "{{ bos_token }}x");
  CHECK(code_of([] { ollm::read_chat_template_config("{}").select(); }) == ollm::ErrorCode::not_found);
  CHECK(code_of([] { ollm::read_chat_template_config("[1"); }) == ollm::ErrorCode::invalid_model_file);

  ollm::GgufMetadata meta;
  meta.set("tokenizer.chat_template", ollm::GgufValue("{{ bos_token }}{{ messages[0].content }}"));
  meta.set("tokenizer.chat_template.tool_use", ollm::GgufValue("tools"));
  meta.set("tokenizer.ggml.tokens", ollm::GgufValue(ollm::GgufArray{std::vector<std::string>{"<unk>", "<s>", "</s>"}}));
  meta.set("tokenizer.ggml.bos_token_id", ollm::GgufValue(uint32_t{1}));
  meta.set("tokenizer.ggml.eos_token_id", ollm::GgufValue(uint32_t{2}));
  const auto g = ollm::chat_template_config_from_gguf(meta);
  CHECK(g.templates.size() == 2);
  CHECK(g.select({}, true) == "tools");
  ollm::ChatRequest req;
  req.messages = {{"user", "hey"}};
  CHECK(g.load().render(req) == "<s>hey");
}
