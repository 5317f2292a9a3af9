// C ABI, part 3: the versioned function table for dlopen users. Append-only: every member's
// offset is pinned below, so a caller compiled against an older ollm.h finds each function where
// its header put it.
#include <cstddef>

#include "ollm.h"

namespace {

constexpr size_t header_bytes = 2 * sizeof(uint32_t);
constexpr size_t slot = sizeof(void (*)(void));
static_assert(sizeof(void*) == slot, "function and data pointers must have the same size");

// OLLM_API_VERSION 1: the table as first published. Never edit an existing line; append.
constexpr ollm_api make_api_v1() {
  ollm_api api{};
  api.version = 1;
  api.struct_size = sizeof(ollm_api);
  api.version_string = &ollm_version;
  api.build_info = &ollm_build_info;
  api.last_error = &ollm_last_error;
  api.status_name = &ollm_status_name;
  api.free = &ollm_free;
  api.set_log_callback = &ollm_set_log_callback;
  api.model_options_init = &ollm_model_options_init;
  api.model_load = &ollm_model_load;
  api.model_destroy = &ollm_model_destroy;
  api.model_architecture = &ollm_model_architecture;
  api.model_name = &ollm_model_name;
  api.model_chat_template = &ollm_model_chat_template;
  api.model_vocab_size = &ollm_model_vocab_size;
  api.model_context_length = &ollm_model_context_length;
  api.model_hidden_size = &ollm_model_hidden_size;
  api.model_layer_count = &ollm_model_layer_count;
  api.model_weight_bytes = &ollm_model_weight_bytes;
  api.tokenizer_from_model = &ollm_tokenizer_from_model;
  api.tokenizer_load = &ollm_tokenizer_load;
  api.tokenizer_destroy = &ollm_tokenizer_destroy;
  api.tokenize = &ollm_tokenize;
  api.detokenize = &ollm_detokenize;
  api.tokenizer_vocab_size = &ollm_tokenizer_vocab_size;
  api.tokenizer_bos_id = &ollm_tokenizer_bos_id;
  api.tokenizer_eos_id = &ollm_tokenizer_eos_id;
  api.chat_message_init = &ollm_chat_message_init;
  api.chat_template_from_model = &ollm_chat_template_from_model;
  api.chat_template_parse = &ollm_chat_template_parse;
  api.chat_template_destroy = &ollm_chat_template_destroy;
  api.chat_template_set_special_token = &ollm_chat_template_set_special_token;
  api.chat_template_render = &ollm_chat_template_render;
  api.chat_template_render_json = &ollm_chat_template_render_json;
  api.sampler_create = &ollm_sampler_create;
  api.sampler_destroy = &ollm_sampler_destroy;
  api.sampler_set_temperature = &ollm_sampler_set_temperature;
  api.sampler_set_top_k = &ollm_sampler_set_top_k;
  api.sampler_set_top_p = &ollm_sampler_set_top_p;
  api.sampler_set_min_p = &ollm_sampler_set_min_p;
  api.sampler_set_typical_p = &ollm_sampler_set_typical_p;
  api.sampler_set_penalties = &ollm_sampler_set_penalties;
  api.sampler_set_seed = &ollm_sampler_set_seed;
  api.sampler_add_logit_bias = &ollm_sampler_add_logit_bias;
  api.sampler_clear_logit_bias = &ollm_sampler_clear_logit_bias;
  api.engine_options_init = &ollm_engine_options_init;
  api.engine_create = &ollm_engine_create;
  api.engine_destroy = &ollm_engine_destroy;
  api.generate_options_init = &ollm_generate_options_init;
  api.engine_submit = &ollm_engine_submit;
  api.engine_step = &ollm_engine_step;
  api.engine_run = &ollm_engine_run;
  api.engine_take_result = &ollm_engine_take_result;
  api.engine_generate = &ollm_engine_generate;
  api.engine_cancel = &ollm_engine_cancel;
  api.engine_cancel_all = &ollm_engine_cancel_all;
  api.engine_open_session = &ollm_engine_open_session;
  api.engine_close_session = &ollm_engine_close_session;
  api.engine_reset_session = &ollm_engine_reset_session;
  api.engine_logits = &ollm_engine_logits;
  api.engine_embeddings = &ollm_engine_embeddings;
  api.engine_kv_free_tokens = &ollm_engine_kv_free_tokens;
  api.result_destroy = &ollm_result_destroy;
  api.result_text = &ollm_result_text;
  api.result_tokens = &ollm_result_tokens;
  api.result_finish_reason = &ollm_result_finish_reason;
  api.result_prompt_tokens = &ollm_result_prompt_tokens;
  api.result_reused_tokens = &ollm_result_reused_tokens;
  api.result_error = &ollm_result_error;
  api.model_info_open = &ollm_model_info_open;
  api.model_info_destroy = &ollm_model_info_destroy;
  api.model_info_architecture = &ollm_model_info_architecture;
  api.model_info_tensor_count = &ollm_model_info_tensor_count;
  return api;
}

// OLLM_API_VERSION 2: thread pools. The v1 table's members, then the appended ones.
constexpr ollm_api make_api_v2() {
  ollm_api api = make_api_v1();
  api.version = 2;
  api.thread_pool_create = &ollm_thread_pool_create;
  api.thread_pool_destroy = &ollm_thread_pool_destroy;
  api.thread_pool_size = &ollm_thread_pool_size;
  return api;
}

constexpr ollm_api api_latest = make_api_v2();

#define OLLM_PIN(member, index) \
  static_assert(offsetof(ollm_api, member) == header_bytes + (index) * slot, "ollm_api." #member " moved")
OLLM_PIN(version_string, 0);
OLLM_PIN(build_info, 1);
OLLM_PIN(last_error, 2);
OLLM_PIN(status_name, 3);
OLLM_PIN(free, 4);
OLLM_PIN(set_log_callback, 5);
OLLM_PIN(model_options_init, 6);
OLLM_PIN(model_load, 7);
OLLM_PIN(model_destroy, 8);
OLLM_PIN(model_architecture, 9);
OLLM_PIN(model_name, 10);
OLLM_PIN(model_chat_template, 11);
OLLM_PIN(model_vocab_size, 12);
OLLM_PIN(model_context_length, 13);
OLLM_PIN(model_hidden_size, 14);
OLLM_PIN(model_layer_count, 15);
OLLM_PIN(model_weight_bytes, 16);
OLLM_PIN(tokenizer_from_model, 17);
OLLM_PIN(tokenizer_load, 18);
OLLM_PIN(tokenizer_destroy, 19);
OLLM_PIN(tokenize, 20);
OLLM_PIN(detokenize, 21);
OLLM_PIN(tokenizer_vocab_size, 22);
OLLM_PIN(tokenizer_bos_id, 23);
OLLM_PIN(tokenizer_eos_id, 24);
OLLM_PIN(chat_message_init, 25);
OLLM_PIN(chat_template_from_model, 26);
OLLM_PIN(chat_template_parse, 27);
OLLM_PIN(chat_template_destroy, 28);
OLLM_PIN(chat_template_set_special_token, 29);
OLLM_PIN(chat_template_render, 30);
OLLM_PIN(chat_template_render_json, 31);
OLLM_PIN(sampler_create, 32);
OLLM_PIN(sampler_destroy, 33);
OLLM_PIN(sampler_set_temperature, 34);
OLLM_PIN(sampler_set_top_k, 35);
OLLM_PIN(sampler_set_top_p, 36);
OLLM_PIN(sampler_set_min_p, 37);
OLLM_PIN(sampler_set_typical_p, 38);
OLLM_PIN(sampler_set_penalties, 39);
OLLM_PIN(sampler_set_seed, 40);
OLLM_PIN(sampler_add_logit_bias, 41);
OLLM_PIN(sampler_clear_logit_bias, 42);
OLLM_PIN(engine_options_init, 43);
OLLM_PIN(engine_create, 44);
OLLM_PIN(engine_destroy, 45);
OLLM_PIN(generate_options_init, 46);
OLLM_PIN(engine_submit, 47);
OLLM_PIN(engine_step, 48);
OLLM_PIN(engine_run, 49);
OLLM_PIN(engine_take_result, 50);
OLLM_PIN(engine_generate, 51);
OLLM_PIN(engine_cancel, 52);
OLLM_PIN(engine_cancel_all, 53);
OLLM_PIN(engine_open_session, 54);
OLLM_PIN(engine_close_session, 55);
OLLM_PIN(engine_reset_session, 56);
OLLM_PIN(engine_logits, 57);
OLLM_PIN(engine_embeddings, 58);
OLLM_PIN(engine_kv_free_tokens, 59);
OLLM_PIN(result_destroy, 60);
OLLM_PIN(result_text, 61);
OLLM_PIN(result_tokens, 62);
OLLM_PIN(result_finish_reason, 63);
OLLM_PIN(result_prompt_tokens, 64);
OLLM_PIN(result_reused_tokens, 65);
OLLM_PIN(result_error, 66);
OLLM_PIN(model_info_open, 67);
OLLM_PIN(model_info_destroy, 68);
OLLM_PIN(model_info_architecture, 69);
OLLM_PIN(model_info_tensor_count, 70);
OLLM_PIN(thread_pool_create, 71);
OLLM_PIN(thread_pool_destroy, 72);
OLLM_PIN(thread_pool_size, 73);
static_assert(sizeof(ollm_api) == header_bytes + 74 * slot, "ollm_api changed size: append, then pin");
#undef OLLM_PIN

}  // namespace

extern "C" const ollm_api* ollm_get_api(uint32_t version) {
  if (version == 0 || version > OLLM_API_VERSION) return nullptr;
  // Older callers read a prefix of the newest table; later versions only append.
  return &api_latest;
}

