// Shared by the C ABI's translation units: the handle structs behind ollm.h's opaque types, the
// catch-everything wrapper that turns exceptions into status codes, and the reader of
// size-prefixed option structs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "ollm.h"
#include "ollm/chat_template.hpp"
#include "ollm/engine.hpp"
#include "ollm/error.hpp"
#include "ollm/model.hpp"
#include "ollm/model_spec.hpp"
#include "ollm/sampling.hpp"
#include "ollm/thread_pool.hpp"
#include "ollm/tokenizer.hpp"

struct ollm_model_info {
  ollm::ModelSpec spec;
};

struct ollm_model {
  std::shared_ptr<const ollm::Model> model;
  int threads = 0;  // default for engines made from it
};

struct ollm_tokenizer {
  std::shared_ptr<const ollm::Model> keep_alive;  // null for a tokenizer loaded from files
  ollm::Tokenizer tokenizer;
};

struct ollm_chat_template {
  ollm::ChatTemplate chat_template;
};

struct ollm_sampler {
  ollm::SamplingParams params;
};

struct ollm_engine {
  std::shared_ptr<const ollm::Model> model;
  std::unique_ptr<ollm::Engine> engine;
  // Requests submitted and not yet taken, for ollm_engine_cancel_all from another thread.
  std::mutex live_mutex;
  std::set<uint64_t> live;
};

// Engines made with the pool hold their own reference: the handle may go first.
struct ollm_thread_pool {
  std::shared_ptr<ollm::ThreadPool> pool;
};

struct ollm_result {
  ollm::GenerationResult result;
};

namespace ollm::c_api {

// The thread's last error message (ollm_last_error).
std::string& last_error();

// Runs body; maps any exception to a status and the thread's message. Never throws.
template <class F>
ollm_status guarded(F&& body) noexcept {
  try {
    body();
    last_error().clear();
    return OLLM_OK;
  } catch (const ollm::Error& e) {
    try { last_error() = e.what(); } catch (...) {}
    return static_cast<ollm_status>(e.code());
  } catch (const std::bad_alloc&) {
    try { last_error() = "[c-api] out of memory"; } catch (...) {}
    return OLLM_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    try { last_error() = std::string("[c-api] internal error: ") + e.what(); } catch (...) {}
    return OLLM_ERR_INTERNAL;
  } catch (...) {
    try { last_error() = "[c-api] internal error: unknown exception"; } catch (...) {}
    return OLLM_ERR_INTERNAL;
  }
}

[[noreturn]] void invalid(const std::string& message);

// Throws invalid_argument naming `what` in `function` when p is NULL.
inline void require(const void* p, const char* function, const char* what) {
  if (p == nullptr) invalid(std::string("[c-api] ") + function + ": " + what + " must not be NULL");
}

// A copy of the caller's size-prefixed struct: defaults from init, then as many of the caller's
// bytes as both sides know (an older caller's struct is shorter; a newer one's extra fields are
// ignored).
template <class T>
T read_sized(const T* in, void (*init)(T*), const char* function) {
  T out;
  init(&out);
  if (in == nullptr) return out;
  if (in->struct_size < sizeof(size_t))
    invalid(std::string("[c-api] ") + function + ": struct_size " + std::to_string(in->struct_size) +
            " is too small (use the *_init function)");
  std::memcpy(static_cast<void*>(&out), in, std::min(in->struct_size, sizeof(T)));
  out.struct_size = sizeof(T);
  return out;
}

// malloc'ed copies the caller frees with ollm_free (plain free: any language can hold them).
char* copy_string(std::string_view s);
template <class T>
T* copy_array(const T* data, size_t n) {
  if (n == 0) return nullptr;
  auto* p = static_cast<T*>(std::malloc(n * sizeof(T)));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, data, n * sizeof(T));
  return p;
}

}  // namespace ollm::c_api
