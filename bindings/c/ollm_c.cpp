// C ABI implementation: every entry point catches everything and maps it to a status code.
#include "ollm.h"

#include <new>
#include <string>

#include "ollm/error.hpp"
#include "ollm/model_spec.hpp"
#include "ollm/version.hpp"

struct ollm_model_info {
  ollm::ModelSpec spec;
};

namespace {

thread_local std::string last_error;

template <class F>
ollm_status guarded(F&& body) noexcept {
  try {
    body();
    last_error.clear();
    return OLLM_OK;
  } catch (const ollm::Error& e) {
    last_error = e.what();
    return static_cast<ollm_status>(e.code());
  } catch (const std::bad_alloc&) {
    last_error = "[c-api] out of memory";
    return OLLM_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    last_error = std::string("[c-api] internal error: ") + e.what();
    return OLLM_ERR_INTERNAL;
  } catch (...) {
    last_error = "[c-api] internal error: unknown exception";
    return OLLM_ERR_INTERNAL;
  }
}

}  // namespace

extern "C" {

const char* ollm_version(void) { return ollm::version_string(); }

const char* ollm_last_error(void) { return last_error.c_str(); }

ollm_status ollm_model_info_open(const char* path, ollm_model_info** out) {
  return guarded([&] {
    if (path == nullptr || out == nullptr)
      throw ollm::Error(ollm::ErrorCode::invalid_argument, "[c-api] ollm_model_info_open: path and out must not be NULL");
    auto* info = new ollm_model_info{ollm::read_model_spec(path)};
    *out = info;
  });
}

void ollm_model_info_destroy(ollm_model_info* info) { delete info; }

const char* ollm_model_info_architecture(const ollm_model_info* info) {
  return info ? info->spec.architecture.c_str() : "";
}

size_t ollm_model_info_tensor_count(const ollm_model_info* info) { return info ? info->spec.tensors.size() : 0; }

}  // extern "C"
