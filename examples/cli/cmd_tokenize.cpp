// `ollm tokenize (--tokenizer PATH | -m MODEL) [-p TEXT] [--special] [--no-add-special] [--jsonl]`:
// text to token ids with a tokenizer.json or a model's own tokenizer (GGUF or HF directory).
#include <fmt/format.h>
#include <simdjson.h>

#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "json_out.hpp"
#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "ollm/model_spec.hpp"
#include "ollm/tokenizer.hpp"

namespace ollm_cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  std::string model;
  std::optional<std::string> prompt;
  bool special = false;
  bool no_add_special = false;
  bool jsonl = false;
  bool show_tokens = false;
};

ollm::Tokenizer load_tokenizer(const TokenizeOptions& opt) {
  namespace fs = std::filesystem;
  if (!opt.tokenizer.empty()) {
    const fs::path json = opt.tokenizer;
    std::error_code ec;
    if (fs::is_directory(json, ec))
      throw ollm::Error(ollm::ErrorCode::invalid_argument,
                        fmt::format("[cli] --tokenizer '{}' is a directory: pass the tokenizer.json in it, or the "
                                    "directory with -m", json.string()));
    const fs::path config = json.parent_path() / "tokenizer_config.json";
    return ollm::Tokenizer::from_json_files(json, fs::exists(config) ? config : fs::path{});
  }
  const fs::path model = opt.model;
  // A directory with tokenizer files needs no weights to tokenize.
  if (fs::is_directory(model) && fs::exists(model / "tokenizer.json")) {
    const fs::path config = model / "tokenizer_config.json";
    return ollm::Tokenizer::from_json_files(model / "tokenizer.json", fs::exists(config) ? config : fs::path{});
  }
  // A GGUF file: only its tokenizer.ggml.* keys, so a vocabulary-only file, or one of an
  // architecture ollm cannot run, still tokenizes (the first split holds the vocabulary).
  if (!fs::is_directory(model)) return ollm::Tokenizer::from_gguf(ollm::GgufFile::open(model));
  return ollm::Tokenizer::from_model_spec(ollm::read_model_spec(model));
}

void print_ids(const std::vector<int32_t>& ids) {
  JsonOut j(std::cout);
  j.begin_array();
  for (int32_t id : ids) j.value(static_cast<int64_t>(id));
  j.end_array();
  std::cout << '\n';
}

void print_tokens(const ollm::Tokenizer& tok, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    std::ostringstream piece, raw;
    write_json_string(piece, tok.decode(std::vector<int32_t>{id}));
    write_json_string(raw, tok.id_to_token(id));
    fmt::print("{:>8}  {:<24} {}\n", id, raw.str(), piece.str());
  }
}

int run_jsonl(const ollm::Tokenizer& tok, const TokenizeOptions& opt) {
  simdjson::dom::parser parser;
  size_t line_no = 0;
  int status = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    JsonOut j(std::cout);
    std::string_view text;
    simdjson::dom::element doc;
    auto err = parser.parse(line).get(doc);
    if (!err) err = doc["text"].get(text);
    if (err) {
      j.begin_object().key("error").value(fmt::format("line {}: expected {{\"text\": string}}: {}", line_no,
                                                      simdjson::error_message(err)));
      j.end_object();
      status = exit_failure;
    } else {
      const auto ids = tok.encode(text, !opt.no_add_special, opt.special);
      j.begin_object().key("ids").begin_array();
      for (int32_t id : ids) j.value(static_cast<int64_t>(id));
      j.end_array().end_object();
    }
    std::cout << '\n';
  }
  std::cout.flush();
  return status;
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
  auto opt = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Turn text into token ids");
  auto* tok_opt = cmd->add_option("--tokenizer", opt->tokenizer, "A Hugging Face tokenizer.json (tokenizer_config.json beside it is read too)");
  auto* model_opt = cmd->add_option("-m,--model", opt->model, "A GGUF file or Hugging Face model directory");
  tok_opt->excludes(model_opt);
  cmd->add_option("-p,--prompt", opt->prompt, "The text (default: all of standard input)");
  cmd->add_flag("--special", opt->special, "Parse special-token text such as <|eot_id|> into special tokens");
  cmd->add_flag("--no-add-special,--no-bos", opt->no_add_special, "Do not add BOS/EOS or other post-processor tokens");
  cmd->add_flag("--jsonl", opt->jsonl, "Read {\"text\": ...} lines from standard input, write {\"ids\": [...]} lines");
  cmd->add_flag("--tokens", opt->show_tokens, "Print one token per line: id, vocabulary string, decoded text");
  return {cmd, [opt] {
            if (opt->tokenizer.empty() && opt->model.empty())
              throw ollm::Error(ollm::ErrorCode::invalid_argument, "[cli] tokenize needs --tokenizer PATH or -m MODEL");
            const ollm::Tokenizer tok = load_tokenizer(*opt);
            if (opt->jsonl) return run_jsonl(tok, *opt);
            std::string text;
            if (opt->prompt) text = *opt->prompt;
            else text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
            const auto ids = tok.encode(text, !opt->no_add_special, opt->special);
            if (opt->show_tokens) print_tokens(tok, ids);
            else print_ids(ids);
            return 0;
          }};
}

}  // namespace ollm_cli
