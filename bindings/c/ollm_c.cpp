// C ABI, part 1: library information, errors, logging, models, tokenizers and chat templates.
// Every entry point catches everything (c_api_support.hpp) and maps it to a status code.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "c_api_support.hpp"
#include "ollm/chat_template.hpp"
#include "ollm/log.hpp"
#include "ollm/version.hpp"

namespace ollm::c_api {

std::string& last_error() {
  thread_local std::string message;
  return message;
}

void invalid(const std::string& message) { throw ollm::Error(ollm::ErrorCode::invalid_argument, message); }

char* copy_string(std::string_view s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

namespace {

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string build_info_json() {
  const ollm::BuildInfo info = ollm::build_info();
  std::string out = "{\"version\":";
  json_string(out, ollm::version_string());
  auto list = [&](const char* key, const std::vector<std::string>& items) {
    out += std::string(",\"") + key + "\":[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += ',';
      json_string(out, items[i]);
    }
    out += ']';
  };
  list("backends", info.backends);
  list("cpu_features", info.cpu_features);
  out += std::string(",\"onednn\":") + (info.onednn ? "true" : "false");
  out += ",\"cuda_devices\":" + std::to_string(info.cuda_devices) + ",\"cuda_status\":";
  json_string(out, info.cuda_status);
  out += '}';
  return out;
}

}  // namespace
}  // namespace ollm::c_api

using namespace ollm::c_api;

extern "C" {

const char* ollm_version(void) { return ollm::version_string(); }

const char* ollm_build_info(void) {
  static const std::string json = [] {
    try {
      return build_info_json();
    } catch (...) {
      return std::string("{}");
    }
  }();
  return json.c_str();
}

const char* ollm_last_error(void) { return last_error().c_str(); }

const char* ollm_status_name(int32_t status) {
  switch (status) {
    case OLLM_OK: return "OLLM_OK";
    case OLLM_ERR_INVALID_ARGUMENT: return "OLLM_ERR_INVALID_ARGUMENT";
    case OLLM_ERR_INVALID_MODEL_FILE: return "OLLM_ERR_INVALID_MODEL_FILE";
    case OLLM_ERR_UNSUPPORTED: return "OLLM_ERR_UNSUPPORTED";
    case OLLM_ERR_OUT_OF_MEMORY: return "OLLM_ERR_OUT_OF_MEMORY";
    case OLLM_ERR_IO: return "OLLM_ERR_IO";
    case OLLM_ERR_CANCELLED: return "OLLM_ERR_CANCELLED";
    case OLLM_ERR_NOT_FOUND: return "OLLM_ERR_NOT_FOUND";
    case OLLM_ERR_INTERNAL: return "OLLM_ERR_INTERNAL";
    case OLLM_ERR_DEVICE_FAILURE: return "OLLM_ERR_DEVICE_FAILURE";
  }
  return "OLLM_ERR_UNKNOWN";
}

void ollm_free(void* p) { std::free(p); }

ollm_status ollm_set_log_callback(ollm_log_fn fn, void* user_data, int32_t min_level) {
  return guarded([&] {
    if (min_level < OLLM_LOG_DEBUG || min_level > OLLM_LOG_OFF)
      invalid("[c-api] ollm_set_log_callback: min_level " + std::to_string(min_level) +
              " is not an ollm_log_level");
    if (fn == nullptr) {
      ollm::set_log_callback({}, ollm::LogLevel::off);
      return;
    }
    ollm::set_log_callback(
        [fn, user_data](ollm::LogLevel level, std::string_view message) {
          const std::string text(message);
          fn(user_data, static_cast<ollm_log_level>(level), text.c_str());
        },
        static_cast<ollm::LogLevel>(min_level));
  });
}

// ---- Model description ----

ollm_status ollm_model_info_open(const char* path, ollm_model_info** out) {
  return guarded([&] {
    require(path, "ollm_model_info_open", "path");
    require(out, "ollm_model_info_open", "out");
    *out = new ollm_model_info{ollm::read_model_spec(path)};
  });
}

void ollm_model_info_destroy(ollm_model_info* info) { delete info; }

const char* ollm_model_info_architecture(const ollm_model_info* info) {
  return info ? info->spec.architecture.c_str() : "";
}

size_t ollm_model_info_tensor_count(const ollm_model_info* info) { return info ? info->spec.tensors.size() : 0; }

// ---- Model ----

void ollm_model_options_init(ollm_model_options* options) {
  if (options == nullptr) return;
  *options = ollm_model_options{};
  options->struct_size = sizeof(ollm_model_options);
  options->use_mmap = 1;
}

ollm_status ollm_model_load(const char* path, const ollm_model_options* options, ollm_model** out) {
  return guarded([&] {
    require(path, "ollm_model_load", "path");
    require(out, "ollm_model_load", "out");
    const ollm_model_options o = read_sized(options, ollm_model_options_init, "ollm_model_load");
    if (o.threads < 0 || o.threads > 1024)
      invalid("[c-api] ollm_model_load: threads " + std::to_string(o.threads) + " is out of range (0..1024)");
    ollm::ModelLoadOptions lo;
    if (o.device != nullptr) lo.device = o.device;
    lo.use_mmap = o.use_mmap != 0;
    switch (o.verify_checksums != 0 ? OLLM_CHECKSUMS_ALWAYS : o.checksum_policy) {
      case OLLM_CHECKSUMS_AUTO: lo.verify_checksums = ollm::ChecksumPolicy::automatic; break;
      case OLLM_CHECKSUMS_ALWAYS: lo.verify_checksums = ollm::ChecksumPolicy::always; break;
      case OLLM_CHECKSUMS_NEVER: lo.verify_checksums = ollm::ChecksumPolicy::never; break;
      default:
        invalid("[c-api] ollm_model_load: checksum_policy " + std::to_string(o.checksum_policy) +
                " is not an ollm_checksum_policy");
    }
    if (o.checksum_cache != nullptr) lo.checksum_cache = o.checksum_cache;
    if (o.progress != nullptr) {
      const ollm_progress_fn fn = o.progress;
      void* user = o.progress_user_data;
      lo.progress = [fn, user](float fraction) { return fn(user, fraction) != 0; };
    }
    auto handle = std::make_unique<ollm_model>();
    handle->model = ollm::Model::load(path, lo);
    handle->threads = o.threads;
    *out = handle.release();
  });
}

void ollm_model_destroy(ollm_model* model) { delete model; }

const char* ollm_model_architecture(const ollm_model* model) {
  return model ? model->model->architecture().c_str() : "";
}
const char* ollm_model_name(const ollm_model* model) { return model ? model->model->spec().name.c_str() : ""; }
const char* ollm_model_chat_template(const ollm_model* model) {
  if (model == nullptr || !model->model->chat_template()) return nullptr;
  return model->model->chat_template()->source().c_str();
}
int64_t ollm_model_vocab_size(const ollm_model* model) { return model ? model->model->vocab_size() : 0; }
int64_t ollm_model_context_length(const ollm_model* model) { return model ? model->model->context_length() : 0; }
int64_t ollm_model_hidden_size(const ollm_model* model) { return model ? model->model->hidden_size() : 0; }
int64_t ollm_model_layer_count(const ollm_model* model) { return model ? model->model->n_layers() : 0; }
uint64_t ollm_model_weight_bytes(const ollm_model* model) { return model ? model->model->weight_bytes() : 0; }

// ---- Tokenizer ----

ollm_status ollm_tokenizer_from_model(const ollm_model* model, ollm_tokenizer** out) {
  return guarded([&] {
    require(model, "ollm_tokenizer_from_model", "model");
    require(out, "ollm_tokenizer_from_model", "out");
    *out = new ollm_tokenizer{model->model, model->model->tokenizer()};
  });
}

ollm_status ollm_tokenizer_load(const char* tokenizer_json, const char* tokenizer_config_json, ollm_tokenizer** out) {
  return guarded([&] {
    require(tokenizer_json, "ollm_tokenizer_load", "tokenizer_json");
    require(out, "ollm_tokenizer_load", "out");
    *out = new ollm_tokenizer{
        nullptr, ollm::Tokenizer::from_json_files(tokenizer_json, tokenizer_config_json ? std::filesystem::path(
                                                                                   tokenizer_config_json)
                                                                             : std::filesystem::path())};
  });
}

void ollm_tokenizer_destroy(ollm_tokenizer* tokenizer) { delete tokenizer; }

ollm_status ollm_tokenize(const ollm_tokenizer* tokenizer, const char* text, size_t text_len, int add_special,
                          int32_t** ids, size_t* n_ids) {
  return guarded([&] {
    require(tokenizer, "ollm_tokenize", "tokenizer");
    if (text_len > 0) require(text, "ollm_tokenize", "text");
    require(ids, "ollm_tokenize", "ids");
    require(n_ids, "ollm_tokenize", "n_ids");
    const std::vector<int32_t> v =
        tokenizer->tokenizer.encode(std::string_view(text ? text : "", text_len), add_special != 0);
    int32_t* copy = copy_array(v.data(), v.size());
    *ids = copy;
    *n_ids = v.size();
  });
}

ollm_status ollm_detokenize(const ollm_tokenizer* tokenizer, const int32_t* ids, size_t n_ids, int skip_special,
                            char** text, size_t* text_len) {
  return guarded([&] {
    require(tokenizer, "ollm_detokenize", "tokenizer");
    if (n_ids > 0) require(ids, "ollm_detokenize", "ids");
    require(text, "ollm_detokenize", "text");
    const auto vocab = static_cast<int64_t>(tokenizer->tokenizer.vocab_size());
    for (size_t i = 0; i < n_ids; ++i)
      if (ids[i] < 0 || ids[i] >= vocab)
        invalid("[c-api] ollm_detokenize: ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                " is outside the vocabulary (0.." + std::to_string(vocab - 1) + ")");
    const std::string s = tokenizer->tokenizer.decode(std::span<const int32_t>(ids, n_ids), skip_special != 0);
    char* copy = copy_string(s);
    *text = copy;
    if (text_len) *text_len = s.size();
  });
}

int64_t ollm_tokenizer_vocab_size(const ollm_tokenizer* tokenizer) {
  return tokenizer ? static_cast<int64_t>(tokenizer->tokenizer.vocab_size()) : 0;
}
int32_t ollm_tokenizer_bos_id(const ollm_tokenizer* tokenizer) {
  return tokenizer ? tokenizer->tokenizer.bos_id().value_or(-1) : -1;
}
int32_t ollm_tokenizer_eos_id(const ollm_tokenizer* tokenizer) {
  return tokenizer ? tokenizer->tokenizer.eos_id().value_or(-1) : -1;
}

// ---- Chat templates ----

void ollm_chat_message_init(ollm_chat_message* message) {
  if (message == nullptr) return;
  *message = ollm_chat_message{};
  message->struct_size = sizeof(ollm_chat_message);
}

ollm_status ollm_chat_template_from_model(const ollm_model* model, ollm_chat_template** out) {
  return guarded([&] {
    require(model, "ollm_chat_template_from_model", "model");
    require(out, "ollm_chat_template_from_model", "out");
    if (!model->model->chat_template())
      throw ollm::Error(ollm::ErrorCode::not_found, "[c-api] ollm_chat_template_from_model: the model (" +
                                                        model->model->spec().path.string() + ") has no chat template");
    *out = new ollm_chat_template{*model->model->chat_template()};
  });
}

ollm_status ollm_chat_template_parse(const char* source, ollm_chat_template** out) {
  return guarded([&] {
    require(source, "ollm_chat_template_parse", "source");
    require(out, "ollm_chat_template_parse", "out");
    *out = new ollm_chat_template{ollm::ChatTemplate::parse(source)};
  });
}

void ollm_chat_template_destroy(ollm_chat_template* chat_template) { delete chat_template; }

ollm_status ollm_chat_template_set_special_token(ollm_chat_template* chat_template, const char* name,
                                                 const char* value) {
  return guarded([&] {
    require(chat_template, "ollm_chat_template_set_special_token", "chat_template");
    require(name, "ollm_chat_template_set_special_token", "name");
    require(value, "ollm_chat_template_set_special_token", "value");
    chat_template->chat_template.set_special_token(name, value);
  });
}

ollm_status ollm_chat_template_render(const ollm_chat_template* chat_template, const ollm_chat_message* messages,
                                      size_t n_messages, int add_generation_prompt, char** text) {
  return guarded([&] {
    require(chat_template, "ollm_chat_template_render", "chat_template");
    if (n_messages > 0) require(messages, "ollm_chat_template_render", "messages");
    require(text, "ollm_chat_template_render", "text");
    ollm::ChatRequest request;
    request.add_generation_prompt = add_generation_prompt != 0;
    const size_t stride = n_messages > 0 ? messages[0].struct_size : 0;
    if (n_messages > 0 && stride < sizeof(size_t))
      invalid("[c-api] ollm_chat_template_render: messages[0].struct_size is 0 (use ollm_chat_message_init)");
    for (size_t i = 0; i < n_messages; ++i) {
      const auto* m = reinterpret_cast<const ollm_chat_message*>(reinterpret_cast<const char*>(messages) + i * stride);
      const ollm_chat_message msg = read_sized(m, ollm_chat_message_init, "ollm_chat_template_render");
      if (msg.role == nullptr || msg.content == nullptr)
        invalid("[c-api] ollm_chat_template_render: messages[" + std::to_string(i) + "] has a NULL role or content");
      request.messages.push_back({msg.role, msg.content});
    }
    *text = copy_string(chat_template->chat_template.render(request));
  });
}

ollm_status ollm_chat_template_render_json(const ollm_chat_template* chat_template, const char* messages_json,
                                           const char* tools_json, const char* extra_variables_json,
                                           int add_generation_prompt, char** text) {
  return guarded([&] {
    require(chat_template, "ollm_chat_template_render_json", "chat_template");
    require(messages_json, "ollm_chat_template_render_json", "messages_json");
    require(text, "ollm_chat_template_render_json", "text");
    ollm::ChatRequest request;
    request.messages_json = messages_json;
    if (tools_json) request.tools_json = tools_json;
    if (extra_variables_json) request.extra_variables_json = extra_variables_json;
    request.add_generation_prompt = add_generation_prompt != 0;
    *text = copy_string(chat_template->chat_template.render(request));
  });
}

}  // extern "C"
