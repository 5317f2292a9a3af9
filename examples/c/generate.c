/* Generates text with ollm through its C ABI, linking libollm:
     generate MODEL.gguf ["prompt"] [max_tokens]
   Streams the completion to stdout, then renders a one-message chat with the model's template,
   tokenizes it, and prints a summary line. Exit code 0 on success, 1 on any ollm error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ollm.h"

static int print_piece(void* user_data, const char* piece, size_t len) {
  (void)user_data;
  fwrite(piece, 1, len, stdout);
  fflush(stdout);
  return 1; /* 0 would cancel */
}

static int fail(const char* what, ollm_status status) {
  fprintf(stderr, "%s failed: %s: %s\n", what, ollm_status_name(status), ollm_last_error());
  return 1;
}

int main(int argc, char** argv) {
  const char* prompt = argc > 2 ? argv[2] : "The capital of France is";
  const int max_tokens = argc > 3 ? atoi(argv[3]) : 32;
  ollm_model* model = NULL;
  ollm_engine* engine = NULL;
  ollm_tokenizer* tokenizer = NULL;
  ollm_result* result = NULL;
  ollm_model_options mo;
  ollm_engine_options eo;
  ollm_generate_options go;
  ollm_chat_message message;
  ollm_status status;
  ollm_chat_template* chat_template = NULL;
  char* chat = NULL;
  int32_t* ids = NULL;
  size_t n_ids = 0, n_tokens = 0;

  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [prompt] [max_tokens]\n", argv[0]);
    return 2;
  }
  printf("ollm %s\n", ollm_version());
  ollm_model_options_init(&mo);
  mo.threads = 2;
  if ((status = ollm_model_load(argv[1], &mo, &model)) != OLLM_OK) return fail("ollm_model_load", status);
  printf("model: %s, %lld layers, vocab %lld\n", ollm_model_architecture(model),
         (long long)ollm_model_layer_count(model), (long long)ollm_model_vocab_size(model));

  ollm_engine_options_init(&eo);
  eo.kv_cache_tokens = 1024;
  if ((status = ollm_engine_create(model, &eo, &engine)) != OLLM_OK) return fail("ollm_engine_create", status);

  ollm_generate_options_init(&go);
  go.prompt = prompt;
  go.max_tokens = max_tokens;
  go.on_token = print_piece;
  printf("%s", prompt);
  if ((status = ollm_engine_generate(engine, &go, &result)) != OLLM_OK) return fail("ollm_engine_generate", status);
  ollm_result_tokens(result, &n_tokens);
  printf("\n[%zu tokens, finish %d]\n", n_tokens, (int)ollm_result_finish_reason(result));
  ollm_result_destroy(result);

  ollm_chat_message_init(&message);
  message.role = "user";
  message.content = "Hello!";
  status = ollm_chat_template_from_model(model, &chat_template);
  if (status == OLLM_OK) {
    if ((status = ollm_chat_template_render(chat_template, &message, 1, 1, &chat)) != OLLM_OK)
      return fail("ollm_chat_template_render", status);
    ollm_chat_template_destroy(chat_template);
    if ((status = ollm_tokenizer_from_model(model, &tokenizer)) != OLLM_OK) return fail("ollm_tokenizer_from_model", status);
    if ((status = ollm_tokenize(tokenizer, chat, strlen(chat), 0, &ids, &n_ids)) != OLLM_OK)
      return fail("ollm_tokenize", status);
    printf("chat prompt (%zu tokens):\n%s\n", n_ids, chat);
    ollm_free(ids);
    ollm_free(chat);
    ollm_tokenizer_destroy(tokenizer);
  } else if (status == OLLM_ERR_NOT_FOUND) {
    printf("(the model has no chat template: %s)\n", ollm_last_error());
  } else {
    return fail("ollm_chat_template_from_model", status);
  }
  ollm_engine_destroy(engine);
  ollm_model_destroy(model);
  return 0;
}
