// `ollm chat-template`: renders a conversation with a model's chat template, once from files or
// line by line (--jsonl) for scripts: {"messages", "add_generation_prompt", "tools", "extra"} in,
// {"rendered"} or {"error"} out.
#include <fmt/format.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "commands.hpp"
#include "json_out.hpp"
#include "ollm/chat_template.hpp"
#include "ollm/error.hpp"
#include "ollm/gguf.hpp"

namespace ollm_cli {
namespace {

namespace fs = std::filesystem;

struct ChatTemplateOptions {
  std::string tokenizer_config;
  std::string model;
  std::string template_file;
  std::string template_name;
  std::string messages_file;
  std::string tools_file;
  std::string vars_file;
  bool add_generation_prompt = false;
  bool jsonl = false;
};

// Opening a FIFO for reading blocks until a writer comes: only regular files are read by name
// ("-" is standard input, which may be anything).
void require_regular_file(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) throw ollm::Error(ollm::ErrorCode::io, fmt::format("[cli] '{}' does not exist", path));
  if (ec) throw ollm::Error(ollm::ErrorCode::io, fmt::format("[cli] cannot open '{}': {}", path, ec.message()));
  if (!fs::is_regular_file(status))
    throw ollm::Error(ollm::ErrorCode::io, fmt::format("[cli] '{}' is {}, not a regular file", path,
                                                       fs::is_directory(status) ? "a directory"
                                                       : fs::is_fifo(status)    ? "a FIFO"
                                                                                : "a special file"));
}

std::string read_input(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ollm::Error(ollm::ErrorCode::io, fmt::format("[cli] cannot open '{}'", path));
  ss << in.rdbuf();
  return ss.str();
}

ollm::ChatTemplateConfig load_config(const ChatTemplateOptions& opt) {
  const int sources = !opt.tokenizer_config.empty() + !opt.model.empty() + !opt.template_file.empty();
  if (sources != 1)
    throw ollm::Error(ollm::ErrorCode::invalid_argument,
                      "[cli] give exactly one of --tokenizer-config, -m/--model or --template-file");
  if (!opt.tokenizer_config.empty()) {
    require_regular_file(opt.tokenizer_config);
    return ollm::read_chat_template_config_file(opt.tokenizer_config);
  }
  if (!opt.template_file.empty()) {
    ollm::ChatTemplateConfig c;
    c.templates.emplace_back("default", read_input(opt.template_file));
    return c;
  }
  const fs::path model(opt.model);
  if (fs::is_directory(model)) {
    const fs::path config = model / "tokenizer_config.json";
    if (!fs::exists(config))
      throw ollm::Error(ollm::ErrorCode::not_found, fmt::format("[cli] {} has no tokenizer_config.json", model.string()));
    require_regular_file(config.string());
    return ollm::read_chat_template_config_file(config);
  }
  const auto gguf = ollm::GgufFile::open(model);
  return ollm::chat_template_config_from_gguf(gguf.metadata());
}

// Parses templates once per name: a --jsonl stream may switch between "default" and "tool_use".
class TemplateCache {
 public:
  TemplateCache(ollm::ChatTemplateConfig config, std::string name) : config_(std::move(config)), name_(std::move(name)) {}
  const ollm::ChatTemplate& get(bool has_tools) {
    const std::string& source = config_.select(name_, has_tools);
    auto it = cache_.find(&source);
    if (it == cache_.end()) {
      ollm::ChatTemplate t = ollm::ChatTemplate::parse(source);
      for (const auto& [k, v] : config_.special_tokens) t.set_special_token(k, v);
      it = cache_.emplace(&source, std::move(t)).first;
    }
    return it->second;
  }

 private:
  ollm::ChatTemplateConfig config_;
  std::string name_;
  std::map<const std::string*, ollm::ChatTemplate> cache_;
};

// One --jsonl line into a request; throws ollm::Error on malformed input.
ollm::ChatRequest request_from_line(simdjson::dom::parser& parser, std::string_view line, bool default_agp) {
  simdjson::dom::object obj;
  if (auto err = parser.parse(line.data(), line.size(), true).get(obj))
    throw ollm::Error(ollm::ErrorCode::invalid_argument,
                      fmt::format("[cli] line is not a JSON object: {}", simdjson::error_message(err)));
  ollm::ChatRequest req;
  req.add_generation_prompt = default_agp;
  simdjson::dom::element field;
  if (obj.at_key("messages").get(field))
    throw ollm::Error(ollm::ErrorCode::invalid_argument, "[cli] line has no \"messages\"");
  req.messages_json = simdjson::minify(field);
  bool agp = false;
  if (!obj.at_key("add_generation_prompt").get(field) && !field.get(agp)) req.add_generation_prompt = agp;
  if (!obj.at_key("tools").get(field) && !field.is_null()) req.tools_json = simdjson::minify(field);
  if (!obj.at_key("extra").get(field) && !field.is_null()) req.extra_variables_json = simdjson::minify(field);
  return req;
}

int run_jsonl(const ChatTemplateOptions& opt, TemplateCache& templates) {
  std::istream* in = &std::cin;
  std::ifstream file;
  if (!opt.messages_file.empty() && opt.messages_file != "-") {
    require_regular_file(opt.messages_file);
    file.open(opt.messages_file, std::ios::binary);
    if (!file) throw ollm::Error(ollm::ErrorCode::io, fmt::format("[cli] cannot open '{}'", opt.messages_file));
    in = &file;
  }
  simdjson::dom::parser parser;
  for (std::string line; std::getline(*in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    JsonOut j(std::cout);
    j.begin_object();
    try {
      const ollm::ChatRequest req = request_from_line(parser, line, opt.add_generation_prompt);
      const std::string rendered = templates.get(!req.tools_json.empty()).render(req);
      j.key("rendered").value(rendered);
    } catch (const ollm::Error& e) {
      j.key("error").value(e.what());
    }
    j.end_object();
    std::cout << '\n';
    std::cout.flush();
  }
  return 0;
}

int run(const ChatTemplateOptions& opt) {
  TemplateCache templates(load_config(opt), opt.template_name);
  if (opt.jsonl) return run_jsonl(opt, templates);
  if (opt.messages_file.empty())
    throw ollm::Error(ollm::ErrorCode::invalid_argument, "[cli] give the conversation with -f messages.json (or use --jsonl)");
  ollm::ChatRequest req;
  req.messages_json = read_input(opt.messages_file);
  req.add_generation_prompt = opt.add_generation_prompt;
  if (!opt.tools_file.empty()) req.tools_json = read_input(opt.tools_file);
  if (!opt.vars_file.empty()) req.extra_variables_json = read_input(opt.vars_file);
  std::cout << templates.get(!req.tools_json.empty()).render(req);
  std::cout.flush();
  return 0;
}

}  // namespace

Command add_chat_template_command(CLI::App& app) {
  auto opt = std::make_shared<ChatTemplateOptions>();
  auto* cmd = app.add_subcommand("chat-template", "Render a conversation with a model's chat template (as transformers does)");
  cmd->add_option("--tokenizer-config", opt->tokenizer_config, "A Hugging Face tokenizer_config.json");
  cmd->add_option("-m,--model", opt->model, "GGUF file (tokenizer.chat_template) or Hugging Face model directory");
  cmd->add_option("--template-file", opt->template_file, "A Jinja template file instead of a model's");
  cmd->add_option("--template", opt->template_name, "Named template to use (default: \"tool_use\" with tools, else \"default\")");
  cmd->add_option("-f,--messages", opt->messages_file,
                  "JSON array of messages ('-' for stdin); with --jsonl, the file of request lines (default stdin)");
  cmd->add_flag("--add-generation-prompt", opt->add_generation_prompt, "End with the assistant turn's header");
  cmd->add_option("--tools", opt->tools_file, "JSON array of tool schemas");
  cmd->add_option("--vars", opt->vars_file, "JSON object of extra template variables (enable_thinking, ...)");
  cmd->add_flag("--jsonl", opt->jsonl,
                "Read {\"messages\", \"add_generation_prompt\", \"tools\", \"extra\"} lines, write {\"rendered\"} or "
                "{\"error\"} lines");
  return {cmd, [opt] { return run(*opt); }};
}

}  // namespace ollm_cli
