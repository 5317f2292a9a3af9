// Turns one row of logits into the next token under SamplingParams. Stateful only in its
// random generator (seeded per request), so a request's draws are reproducible from its seed.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "ollm/sampling.hpp"

namespace ollm::runtime {

class Sampler {
 public:
  // Throws Error(invalid_argument) naming the setting when a value is out of range
  // (temperature < 0, top_p outside (0, 1], a logit-bias id outside the vocabulary, ...).
  Sampler(const SamplingParams& params, int64_t vocab);

  // logits: [vocab] (modified: bias and penalties are applied in place) · history: the
  // sequence so far (prompt + generated) for the penalties. Returns the chosen id.
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  void apply_penalties(std::span<float> logits, std::span<const int32_t> history);

  SamplingParams params_;
  int64_t vocab_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;
  std::vector<int32_t> counts_;  // scratch for frequency counting, [vocab]
};

// Index of the largest value; ties go to the lowest index; NaN never wins.
int32_t argmax(std::span<const float> logits) noexcept;

}  // namespace ollm::runtime
