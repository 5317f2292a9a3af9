// Logit bias → repetition/frequency/presence penalties → top-k → typical → top-p → min-p →
// temperature → draw. Greedy when temperature is 0.
#include "runtime/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/fail.hpp"

namespace ollm::runtime {

int32_t argmax(std::span<const float> logits) noexcept {
  int32_t best = 0;
  float best_value = -std::numeric_limits<float>::infinity();
  bool found = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float v = logits[i];
    if (v > best_value || (!found && !std::isnan(v))) {
      best_value = v;
      best = static_cast<int32_t>(i);
      found = true;
    }
  }
  return best;
}

Sampler::Sampler(const SamplingParams& params, int64_t vocab) : params_(params), vocab_(vocab), rng_(params.seed) {
  const auto& p = params_;
  // Each setting with its allowed range; NaN fails every comparison, so it is refused too.
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
    fail(ErrorCode::invalid_argument, "[sampling] temperature {} is out of range (a finite number >= 0; 0 = greedy)",
         p.temperature);
  if (p.top_k < 0) fail(ErrorCode::invalid_argument, "[sampling] top_k {} is out of range (>= 0; 0 = off)", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
    fail(ErrorCode::invalid_argument, "[sampling] top_p {} is out of range ((0, 1]; 1 = off)", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
    fail(ErrorCode::invalid_argument, "[sampling] min_p {} is out of range ([0, 1]; 0 = off)", p.min_p);
  if (!(p.typical_p > 0.0f && p.typical_p <= 1.0f))
    fail(ErrorCode::invalid_argument, "[sampling] typical_p {} is out of range ((0, 1]; 1 = off)", p.typical_p);
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty))
    fail(ErrorCode::invalid_argument, "[sampling] repetition_penalty {} is out of range (a finite number > 0; 1 = off)",
         p.repetition_penalty);
  if (!std::isfinite(p.frequency_penalty))
    fail(ErrorCode::invalid_argument, "[sampling] frequency_penalty {} is out of range (a finite number; 0 = off)",
         p.frequency_penalty);
  if (!std::isfinite(p.presence_penalty))
    fail(ErrorCode::invalid_argument, "[sampling] presence_penalty {} is out of range (a finite number; 0 = off)",
         p.presence_penalty);
  if (p.penalty_window < -1)
    fail(ErrorCode::invalid_argument, "[sampling] penalty_window {} is out of range (>= -1; -1 = all tokens)",
         p.penalty_window);
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= vocab)
      fail(ErrorCode::invalid_argument, "[sampling] logit_bias token {} is outside the vocabulary (0..{})", id,
           vocab - 1);
    // +inf would make the softmax inf - inf = NaN; -inf is how a token is banned.
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity())
      fail(ErrorCode::invalid_argument, "[sampling] logit_bias {} for token {} is out of range (a finite number, or -inf to ban it)",
           bias, id);
  }
}

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> history) {
  const auto& p = params_;
  if (p.repetition_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f) return;
  size_t from = 0;
  if (p.penalty_window >= 0 && history.size() > static_cast<size_t>(p.penalty_window))
    from = history.size() - static_cast<size_t>(p.penalty_window);
  if (counts_.size() != static_cast<size_t>(vocab_)) counts_.assign(static_cast<size_t>(vocab_), 0);
  for (size_t i = from; i < history.size(); ++i)
    if (history[i] >= 0 && history[i] < vocab_) ++counts_[static_cast<size_t>(history[i])];
  for (size_t i = from; i < history.size(); ++i) {
    const int32_t id = history[i];
    if (id < 0 || id >= vocab_) continue;
    int32_t& count = counts_[static_cast<size_t>(id)];
    if (count == 0) continue;  // already penalised (each distinct token once)
    float& l = logits[static_cast<size_t>(id)];
    if (p.repetition_penalty != 1.0f) l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
    l -= static_cast<float>(count) * p.frequency_penalty + p.presence_penalty;
    count = 0;
  }
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  const auto& p = params_;
  for (const auto& [id, bias] : p.logit_bias) logits[static_cast<size_t>(id)] += bias;
  apply_penalties(logits, history);
  if (p.temperature == 0.0f) return argmax(logits);

  candidates_.clear();
  candidates_.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isnan(logits[i]) && logits[i] != -std::numeric_limits<float>::infinity())
      candidates_.push_back({static_cast<int32_t>(i), logits[i], 0.0f});
  if (candidates_.empty()) return argmax(logits);
  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };

  size_t keep = candidates_.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) {
    keep = static_cast<size_t>(p.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(keep), candidates_.end(), by_logit);
    candidates_.resize(keep);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  // Probabilities of the survivors (filters below see the distribution before temperature, as
  // llama.cpp's chain does).
  auto softmax = [&](float temperature) {
    const double max_logit = candidates_.front().logit;
    double sum = 0;
    for (auto& c : candidates_) {
      c.p = static_cast<float>(std::exp((c.logit - max_logit) / temperature));
      sum += c.p;
    }
    for (auto& c : candidates_) c.p = static_cast<float>(c.p / sum);
  };
  softmax(1.0f);

  if (p.typical_p < 1.0f && candidates_.size() > 1) {
    // Keep the tokens whose surprise is closest to the entropy until their mass reaches typical_p.
    double entropy = 0;
    for (const auto& c : candidates_)
      if (c.p > 0) entropy -= c.p * std::log(c.p);
    std::vector<std::pair<double, size_t>> order;
    order.reserve(candidates_.size());
    for (size_t i = 0; i < candidates_.size(); ++i)
      order.push_back({std::abs(-std::log(std::max(candidates_[i].p, 1e-30f)) - entropy), i});
    std::stable_sort(order.begin(), order.end());
    double mass = 0;
    size_t n = 0;
    for (; n < order.size(); ++n) {
      mass += candidates_[order[n].second].p;
      if (mass >= p.typical_p) {
        ++n;
        break;
      }
    }
    std::vector<Candidate> kept;
    for (size_t i = 0; i < std::min(n, order.size()); ++i) kept.push_back(candidates_[order[i].second]);
    std::sort(kept.begin(), kept.end(), by_logit);
    candidates_ = std::move(kept);
    softmax(1.0f);
  }
  if (p.top_p < 1.0f) {
    double mass = 0;
    size_t n = 0;
    while (n < candidates_.size()) {
      mass += candidates_[n++].p;
      if (mass >= p.top_p) break;
    }
    candidates_.resize(std::max<size_t>(1, n));
    softmax(1.0f);
  }
  if (p.min_p > 0.0f) {
    const float threshold = p.min_p * candidates_.front().p;
    size_t n = 1;
    while (n < candidates_.size() && candidates_[n].p >= threshold) ++n;
    candidates_.resize(n);
  }
  softmax(p.temperature);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double r = uniform(rng_);
  double cumulative = 0;
  for (const auto& c : candidates_) {
    cumulative += c.p;
    if (r < cumulative) return c.id;
  }
  return candidates_.back().id;
}

}  // namespace ollm::runtime
