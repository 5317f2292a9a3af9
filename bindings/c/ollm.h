/* ollm C ABI: pure C99, opaque handles, status codes, a thread-local error message.
   No C++ exception ever crosses this boundary. Grows append-only (see docs/). */
#ifndef OLLM_H
#define OLLM_H

#include <stddef.h>
#include <stdint.h>

/* Self-contained on purpose: C users include this one file. Mirrors include/ollm/export.h. */
#ifndef OLLM_API
#  if defined(_WIN32)
#    if defined(OLLM_BUILDING_LIBRARY)
#      define OLLM_API __declspec(dllexport)
#    else
#      define OLLM_API
#    endif
#  else
#    define OLLM_API __attribute__((visibility("default")))
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible call returns one of these (values equal ollm::ErrorCode). */
typedef enum ollm_status {
  OLLM_OK = 0,
  OLLM_ERR_INVALID_ARGUMENT = 1,
  OLLM_ERR_INVALID_MODEL_FILE = 2,
  OLLM_ERR_UNSUPPORTED = 3,
  OLLM_ERR_OUT_OF_MEMORY = 4,
  OLLM_ERR_IO = 5,
  OLLM_ERR_CANCELLED = 6,
  OLLM_ERR_NOT_FOUND = 7,
  OLLM_ERR_INTERNAL = 8
} ollm_status;

/* "0.1.0". Static storage; thread-safe. */
OLLM_API const char* ollm_version(void);

/* Message of the last failed call on this thread ("" if none). Valid until the next
   ollm call on the same thread; owned by the library. */
OLLM_API const char* ollm_last_error(void);

/* Opaque description of a model file (GGUF or Hugging Face directory), read without
   loading weights. Create/destroy pair; destroy accepts NULL. Not thread-safe to destroy
   while in use; read-only queries may run concurrently. */
typedef struct ollm_model_info ollm_model_info;

/* On success *out receives a new handle; on failure *out is left untouched. */
OLLM_API ollm_status ollm_model_info_open(const char* path, ollm_model_info** out);
OLLM_API void ollm_model_info_destroy(ollm_model_info* info);
/* Architecture name ("gemma3"); owned by the handle. */
OLLM_API const char* ollm_model_info_architecture(const ollm_model_info* info);
OLLM_API size_t ollm_model_info_tensor_count(const ollm_model_info* info);

#ifdef __cplusplus
}
#endif

#endif /* OLLM_H */
