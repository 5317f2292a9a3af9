// Sampling settings for one request. Defaults give greedy decoding; every setting is applied
// in a fixed order (logit bias → penalties → top-k → typical → top-p → min-p → temperature →
// draw), the same order llama.cpp's default chain uses, so results are reproducible from the
// seed alone.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ollm {

struct SamplingParams {
  float temperature = 0.0f;       // 0: greedy (argmax after bias and penalties)
  int32_t top_k = 0;              // 0: off
  float top_p = 1.0f;             // 1: off
  float min_p = 0.0f;             // 0: off; keep tokens with p >= min_p * p_max
  float typical_p = 1.0f;         // 1: off (locally typical sampling)
  float repetition_penalty = 1.0f;  // 1: off; HF style: divide positive logits, multiply negative
  float frequency_penalty = 0.0f;   // subtract count * this (OpenAI style)
  float presence_penalty = 0.0f;    // subtract this once per token present
  int32_t penalty_window = 64;      // last N tokens (prompt included) the penalties look at; -1: all
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the token's logit
  uint64_t seed = 0;                // the draw is a pure function of the seed and the logits
};

}  // namespace ollm
