// Chat templates: a Jinja2 engine that renders exactly what Hugging Face transformers'
// apply_chat_template(..., tokenize=False) renders, for the templates real models ship.
// A ChatTemplate is immutable after parse and may be rendered from many threads at once.
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ollm/export.h"

namespace ollm {

class GgufMetadata;

// A plain text message, for callers that do not need JSON.
struct ChatMessage {
  std::string role;
  std::string content;
};

// Guards against hostile templates; exceeding one fails the render with invalid_argument.
struct ChatTemplateLimits {
  size_t max_output_bytes = size_t{64} << 20;
  uint64_t max_loop_iterations = 10'000'000;  // all loops of one render together
  int max_call_depth = 128;                   // nested macro calls (recursive macros)
  // Total work of one render: a unit per statement, expression, loop iteration, macro call and
  // item scanned or built, and per 64 bytes of text built. The largest real template measured
  // (71 templates x 20 conversations of scripts/reference/make_chat_template_goldens.py) needs
  // under 20,000.
  uint64_t max_work = 50'000'000;
};

struct ChatRequest {
  // The conversation as a JSON array of message objects, in the OpenAI / transformers shape:
  // {"role": ..., "content": "text" or [{"type": "text", "text": ...}, ...], "tool_calls": [...],
  //  "reasoning_content": ..., any other field}. Used when non-empty; otherwise `messages`.
  // As transformers does, null-valued fields are dropped and reasoning given as
  // reasoning_content / thinking / reasoning is visible to the template under the first two names.
  std::string messages_json;
  std::vector<ChatMessage> messages;
  bool add_generation_prompt = false;
  // JSON array of tool schemas ({"type": "function", "function": {...}}); empty: the template
  // sees `tools` = none.
  std::string tools_json;
  // JSON object of extra template variables (enable_thinking, reasoning_effort, date_string,
  // builtin_tools...). They override the special tokens of the same name.
  std::string extra_variables_json;
  // Override the template's special tokens (from tokenizer_config.json or set_special_token).
  std::optional<std::string> bos_token, eos_token;
  // The local time that strftime_now() formats; unset: the current local time.
  std::optional<std::tm> now;
  ChatTemplateLimits limits;
};

class OLLM_API ChatTemplate {
 public:
  // Parses Jinja2 source. Syntax errors: invalid_model_file; constructs ollm does not
  // implement: unsupported; both name line and column ("[chat-template] line 3:17: ...").
  static ChatTemplate parse(std::string source);

  // Renders with the variables transformers passes: messages, tools, documents (none),
  // add_generation_prompt, the special tokens, then the extra variables. A template's
  // raise_exception() surfaces as invalid_argument carrying its message.
  std::string render(const ChatRequest& request) const;

  const std::string& source() const noexcept;
  // The special tokens passed as variables (bos_token, eos_token, unk_token, pad_token...).
  const std::vector<std::pair<std::string, std::string>>& special_tokens() const noexcept;
  void set_special_token(std::string name, std::string value);

  ChatTemplate(const ChatTemplate&);
  ChatTemplate& operator=(const ChatTemplate&);
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

 private:
  struct Program;
  ChatTemplate(std::shared_ptr<const Program> program, std::string source);
  std::shared_ptr<const Program> program_;
  std::string source_;
  std::vector<std::pair<std::string, std::string>> special_tokens_;
};

// What a model's files say about its chat template.
struct OLLM_API ChatTemplateConfig {
  // Named templates; a single `chat_template` string is stored under "default".
  std::vector<std::pair<std::string, std::string>> templates;
  // Template variables for special tokens: bos_token, eos_token, unk_token, sep_token, pad_token,
  // cls_token, mask_token, then the model's own "*_token" entries (Gemma 3's boi_token...).
  std::vector<std::pair<std::string, std::string>> special_tokens;

  // transformers' choice: `name` when given; else "tool_use" when the request has tools and the
  // model has one; else "default". not_found when the model has no such template.
  const std::string& select(std::string_view name = {}, bool has_tools = false) const;
  // Parses the selected template and gives it the special tokens.
  ChatTemplate load(std::string_view name = {}, bool has_tools = false) const;
};

// From tokenizer_config.json text: `chat_template` (a string or a list of {name, template})
// and the special tokens (strings or AddedToken objects {"content": ...}). Tokens a tokenizer
// class only has as a default (GemmaTokenizer's mask_token "<mask>") are not in the file.
OLLM_API ChatTemplateConfig read_chat_template_config(std::string_view json_text,
                                                      std::string_view source_name = "tokenizer_config.json");
OLLM_API ChatTemplateConfig read_chat_template_config_file(const std::filesystem::path& path);
// From GGUF metadata: tokenizer.chat_template, tokenizer.chat_template.<name>, and the
// bos/eos/unk/pad/sep tokens named by tokenizer.ggml.*_token_id.
OLLM_API ChatTemplateConfig chat_template_config_from_gguf(const GgufMetadata& metadata);

}  // namespace ollm
