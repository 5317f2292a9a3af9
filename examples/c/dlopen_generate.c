/* Loads libollm at run time with dlopen and uses only ollm_get_api — the way a host written in
   another language (or one that must start without the library) uses ollm:
     dlopen_generate /path/to/libollm.so MODEL.gguf ["prompt"] [max_tokens]
   Needs only ollm.h at build time (for the types); links nothing of ollm. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "ollm.h"

static const ollm_api* api;

static int print_piece(void* user_data, const char* piece, size_t len) {
  (void)user_data;
  fwrite(piece, 1, len, stdout);
  fflush(stdout);
  return 1;
}

static int fail(const char* what, ollm_status status) {
  fprintf(stderr, "%s failed: %s: %s\n", what, api->status_name(status), api->last_error());
  return 1;
}

int main(int argc, char** argv) {
  typedef const ollm_api* (*get_api_fn)(uint32_t);
  void* library;
  get_api_fn get_api;
  ollm_model* model = NULL;
  ollm_engine* engine = NULL;
  ollm_result* result = NULL;
  ollm_generate_options go;
  ollm_status status;
  size_t n_tokens = 0;

  if (argc < 3) {
    fprintf(stderr, "usage: %s LIBOLLM MODEL [prompt] [max_tokens]\n", argv[0]);
    return 2;
  }
  library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  /* POSIX guarantees that a data pointer from dlsym converts to a function pointer. */
  *(void**)(&get_api) = dlsym(library, "ollm_get_api");
  if (get_api == NULL || (api = get_api(OLLM_API_VERSION)) == NULL) {
    fprintf(stderr, "libollm does not provide API version %d\n", OLLM_API_VERSION);
    return 1;
  }
  printf("ollm %s (API %u)\n", api->version_string(), api->version);
  if ((status = api->model_load(argv[2], NULL, &model)) != OLLM_OK) return fail("model_load", status);
  if ((status = api->engine_create(model, NULL, &engine)) != OLLM_OK) return fail("engine_create", status);
  api->generate_options_init(&go);
  go.prompt = argc > 3 ? argv[3] : "Once upon a time";
  go.max_tokens = argc > 4 ? atoi(argv[4]) : 32;
  go.on_token = print_piece;
  printf("%s", go.prompt);
  if ((status = api->engine_generate(engine, &go, &result)) != OLLM_OK) return fail("engine_generate", status);
  api->result_tokens(result, &n_tokens);
  printf("\n[%zu tokens, finish %d]\n", n_tokens, (int)api->result_finish_reason(result));
  api->result_destroy(result);
  api->engine_destroy(engine);
  api->model_destroy(model);
  dlclose(library);
  return 0;
}
