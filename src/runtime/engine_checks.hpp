// What callers hand the engine, checked before anything is allocated: every EngineOptions field
// and the request fields that need no model (the sampler checks its settings against the
// vocabulary). Each refusal is Error(invalid_argument) naming the setting, its value and the
// allowed range, so a bad value never reaches arithmetic that could wrap.
#pragma once

#include <cstdint>

#include "ollm/engine.hpp"

namespace ollm::runtime {

inline constexpr int max_engine_threads = 1024;
inline constexpr int max_engine_sequences = 4096;

void check_engine_options(const EngineOptions& options);
void check_request(const GenerationRequest& request);

}  // namespace ollm::runtime
