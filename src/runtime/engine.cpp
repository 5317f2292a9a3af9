// The engine: a scheduler that packs prompt chunks and decode tokens of up to max_sequences
// requests into one batch per step, runs the decoder, samples, streams text and finishes
// requests on EOS, stop strings, max tokens, cancellation or an exhausted context.
#include "ollm/engine.hpp"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "backend/backend.hpp"
#include "model/forward.hpp"
#include "model/model_impl.hpp"
#include "runtime/engine_checks.hpp"
#include "runtime/kv_cache.hpp"
#include "runtime/sampler.hpp"
#include "runtime/stop_matcher.hpp"
#include "util/fail.hpp"

namespace ollm {

const char* numerics_name(Numerics numerics) noexcept {
  switch (numerics) {
    case Numerics::standard: return "standard";
    case Numerics::llamacpp: return "llamacpp";
    case Numerics::exact: return "exact";
  }
  return "unknown";
}

const char* finish_reason_name(FinishReason reason) noexcept {
  switch (reason) {
    case FinishReason::none: return "none";
    case FinishReason::length: return "length";
    case FinishReason::eos: return "eos";
    case FinishReason::stop_string: return "stop";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::context_full: return "context_full";
    case FinishReason::error: return "error";
  }
  return "unknown";
}

namespace {

struct Session {
  runtime::KvSequence kv;
  std::vector<int32_t> tokens;  // history; the first kv.n_tokens of them are cached
  bool busy = false;
};

struct Sequence {
  RequestId id = 0;
  SessionId session = 0;
  GenerationRequest request;
  StreamCallback on_text;
  std::vector<int32_t> tokens;  // everything this sequence has seen: prompt, then generated
  runtime::KvSequence own_kv;
  runtime::KvSequence* kv = nullptr;
  std::optional<runtime::Sampler> sampler;
  std::optional<StreamingDetokenizer> detokenizer;
  std::optional<runtime::StopMatcher> stop;
  GenerationResult result;
  // Set when on_text threw: the callback is not called again and the request ends with
  // FinishReason::error carrying this message.
  std::string callback_error;
};

}  // namespace

struct Engine::Impl {
  Impl(std::shared_ptr<const Model> m, const EngineOptions& o)
      : model(std::move(m)),
        options(checked(*model, o)),
        backend(model->impl().device->create_backend({o.threads, o.thread_pool, o.numerics})),
        cache(plan(*model, o)),
        kv_storage(backend->create_kv_storage(cache.layout())),
        runner(model->impl().config, model->impl().weights, *backend) {
    // A model without a tokenizer still computes logits and embeddings of token ids; generating
    // text needs one (submit says so).
    if (model->has_tokenizer()) {
      const Tokenizer& tok = model->tokenizer();
      for (auto id : {tok.eos_id(), tok.eot_id()})
        if (id) stop_ids.insert(*id);
    }
  }

  // Before any member is built from them: a thread count or KV size out of range must never
  // reach the thread pool or the planner's arithmetic.
  // The same for what the model's device cannot do: refused before any memory is taken.
  static const EngineOptions& checked(const Model& m, const EngineOptions& o) {
    runtime::check_engine_options(o);
    const backend::Device& device = *m.impl().device;
    if (!device.supports(backend::Op::attention, o.kv_type, o.numerics)) {
      if (o.numerics == Numerics::llamacpp)
        fail(ErrorCode::unsupported, "[engine] llamacpp numerics need an F16 or F32 KV cache (kv_type {})",
             dtype_name(o.kv_type));
      fail(ErrorCode::unsupported, "[engine] the {} backend has no attention over a {} KV cache with {} numerics",
           device.display_name(), dtype_name(o.kv_type), numerics_name(o.numerics));
    }
    return o;
  }

  static runtime::KvLayout plan(const Model& m, const EngineOptions& o) {
    const auto& c = m.impl().config;
    return runtime::plan_kv_cache(c.n_layers, c.n_kv_heads, c.head_dim, c.head_dim_v, o.kv_type, o.kv_block_tokens,
                                  o.kv_cache_tokens, o.kv_cache_bytes);
  }

  int64_t budget_tokens() const { return cache.layout().n_blocks * cache.layout().block_tokens; }
  int64_t context_limit() const {
    const int64_t ctx = model->context_length();
    return ctx > 0 ? std::min(ctx, budget_tokens()) : budget_tokens();
  }

  // Appends text and hands it to the callback. A callback that throws ends only its own request
  // (FinishReason::error): the other sequences of the batch still get their sampled tokens.
  void emit(Sequence& s, std::string_view text) {
    if (text.empty()) return;
    s.result.text.append(text);
    if (!s.on_text || !s.callback_error.empty()) return;
    try {
      if (!s.on_text(text) && s.result.finish == FinishReason::none) s.result.finish = FinishReason::cancelled;
    } catch (const std::exception& e) {
      s.callback_error = fmt::format("[engine] request {}: the stream callback threw: {}", s.id, e.what());
    } catch (...) {
      s.callback_error = fmt::format("[engine] request {}: the stream callback threw a non-std exception", s.id);
    }
  }

  // Ends a sequence: releases what it held back, frees or hands its KV to its session.
  void finish(Sequence& s, FinishReason reason, std::string error = {}) {
    if (s.result.finish == FinishReason::none) s.result.finish = reason;
    if (reason != FinishReason::stop_string && reason != FinishReason::cancelled && reason != FinishReason::error &&
        s.detokenizer && s.stop) {
      try {
        std::string tail = s.stop->push(s.detokenizer->finish());
        tail += s.stop->flush();
        emit(s, tail);
      } catch (const std::exception& e) {
        if (s.callback_error.empty()) s.callback_error = fmt::format("[engine] request {}: {}", s.id, e.what());
      }
    }
    if (!s.callback_error.empty()) {
      s.result.finish = FinishReason::error;
      error = s.callback_error;
    }
    s.result.error = std::move(error);
    if (s.session) {
      Session& session = sessions.at(s.session);
      session.tokens = s.tokens;
      session.busy = false;
    } else {
      runtime::release(cache, s.own_kv);
    }
  }

  void complete(std::map<RequestId, std::unique_ptr<Sequence>>::iterator it) {
    results[it->first] = std::move(it->second->result);
    active.erase(it);
  }

  bool is_cancelled(RequestId id) {
    std::lock_guard lock(cancel_mutex);
    return cancelled.erase(id) > 0;
  }

  bool step();
  void after_logits(Sequence& s, float* row);
  std::vector<float> every_position(std::span<const int32_t> ids, bool hidden, const char* what);

  std::shared_ptr<const Model> model;
  EngineOptions options;
  std::unique_ptr<backend::Backend> backend;  // this engine's ops, threads and numerics
  runtime::KvBlockAllocator cache;              // which KV blocks are free
  std::unique_ptr<backend::KvStorage> kv_storage;  // the blocks themselves, on the device
  model::DecoderRunner runner;
  std::set<int32_t> stop_ids;
  std::map<RequestId, std::unique_ptr<Sequence>> active;  // ordered: oldest first
  std::map<RequestId, GenerationResult> results;
  std::map<SessionId, Session> sessions;
  RequestId next_request = 1;
  SessionId next_session = 1;
  std::mutex cancel_mutex;
  std::set<RequestId> cancelled;
  std::vector<float> logits;
};

void Engine::Impl::after_logits(Sequence& s, float* row) {
  const int64_t vocab = model->vocab_size();
  const int32_t token = s.sampler->sample({row, static_cast<size_t>(vocab)}, s.tokens);
  s.tokens.push_back(token);
  s.result.tokens.push_back(token);
  if (s.request.stop_at_eos && stop_ids.count(token)) return finish(s, FinishReason::eos);
  emit(s, s.stop->push(s.detokenizer->step(token)));
  if (!s.callback_error.empty()) return finish(s, FinishReason::error);
  if (s.result.finish == FinishReason::cancelled) return finish(s, FinishReason::cancelled);
  if (s.stop->matched()) return finish(s, FinishReason::stop_string);
  if (static_cast<int32_t>(s.result.tokens.size()) >= s.request.max_tokens) return finish(s, FinishReason::length);
}

bool Engine::Impl::step() {
  for (auto it = active.begin(); it != active.end();) {
    Sequence& s = *it->second;
    if (is_cancelled(s.id) && s.result.finish == FinishReason::none) finish(s, FinishReason::cancelled);
    if (s.result.finish != FinishReason::none) {
      complete(it++);
    } else {
      ++it;
    }
  }
  if (active.empty()) return false;

  model::Batch batch;
  std::vector<Sequence*> in_batch;
  int64_t budget = options.max_batch_tokens;
  for (auto& [id, seq] : active) {
    if (static_cast<int>(in_batch.size()) >= options.max_sequences || budget == 0) break;
    Sequence& s = *seq;
    const int64_t pending = static_cast<int64_t>(s.tokens.size()) - s.kv->n_tokens;
    if (pending <= 0) {
      // Every running sequence has a token to compute (its prompt, or the one it just sampled);
      // none would mean a step ended half-way. Never batch it: its logits row would be another's.
      finish(s, FinishReason::error, fmt::format("[engine] request {} has no token to compute (internal error)", s.id));
      continue;
    }
    const int64_t chunk = std::min(pending, budget);
    const int64_t needed = s.kv->n_tokens + chunk;
    if (needed > context_limit()) {
      finish(s, FinishReason::context_full,
             fmt::format("[engine] request {} needs {} tokens of context; the limit is {} (model context {}, KV "
                         "budget {} tokens)",
                         s.id, needed, context_limit(), model->context_length(), budget_tokens()));
      continue;
    }
    if (!runtime::reserve_tokens(cache, *s.kv, needed)) continue;  // waits for blocks to free up
    model::BatchSequence bs;
    bs.kv = s.kv;
    bs.first_row = static_cast<int64_t>(batch.tokens.size());
    bs.n_rows = chunk;
    bs.logits_last = chunk == pending;
    batch.tokens.insert(batch.tokens.end(), s.tokens.begin() + s.kv->n_tokens,
                        s.tokens.begin() + s.kv->n_tokens + chunk);
    batch.sequences.push_back(bs);
    in_batch.push_back(&s);
    budget -= chunk;
  }
  if (batch.sequences.empty()) {
    // Every waiting sequence needs blocks that only it could free: end the newest so the rest
    // can proceed (never deadlock, never overwrite another sequence's cache).
    for (auto it = active.rbegin(); it != active.rend(); ++it) {
      Sequence& s = *it->second;
      if (s.result.finish != FinishReason::none) continue;
      finish(s, FinishReason::context_full,
             fmt::format("[engine] request {}: the KV cache ({} tokens) is full", s.id, budget_tokens()));
      break;
    }
    return true;
  }
  runner.forward(batch, *kv_storage, logits);
  int64_t row = 0;
  for (size_t i = 0; i < in_batch.size(); ++i) {
    if (!batch.sequences[i].logits_last) continue;
    Sequence& s = *in_batch[i];
    try {
      after_logits(s, logits.data() + row * model->vocab_size());
    } catch (const std::exception& e) {
      // One request's failure (sampling, detokenizing) ends that request; the rest of the batch
      // still takes its row.
      if (s.result.finish == FinishReason::none || s.result.finish == FinishReason::cancelled)
        finish(s, FinishReason::error, fmt::format("[engine] request {}: {}", s.id, e.what()));
    }
    ++row;
  }
  return true;
}

Engine::Engine(std::shared_ptr<const Model> model, const EngineOptions& options) {
  if (!model) fail(ErrorCode::invalid_argument, "[engine] the model is null");
  impl_ = std::make_unique<Impl>(std::move(model), options);
}

Engine::~Engine() = default;

RequestId Engine::submit(GenerationRequest request, StreamCallback on_text) {
  Impl& e = *impl_;
  runtime::check_request(request);
  const Tokenizer& tok = e.model->tokenizer();  // throws, naming the missing file, for a model without one
  auto s = std::make_unique<Sequence>();
  std::vector<int32_t> prompt = request.prompt_ids.empty()
                                    ? tok.encode(request.prompt, request.add_special_tokens)
                                    : request.prompt_ids;
  if (prompt.empty() && request.prompt.empty())
    fail(ErrorCode::invalid_argument, "[engine] the prompt is empty (no text and no token ids)");
  if (prompt.empty())
    fail(ErrorCode::invalid_argument, "[engine] the prompt text ({} bytes) tokenizes to zero tokens{}",
         request.prompt.size(), request.add_special_tokens ? "" : " (add_special_tokens is off: no BOS was added)");
  for (int32_t id : prompt)
    if (id < 0 || id >= e.model->vocab_size())
      fail(ErrorCode::invalid_argument, "[engine] prompt token id {} is outside the vocabulary (0..{})", id,
           e.model->vocab_size() - 1);
  if (static_cast<int64_t>(prompt.size()) > e.context_limit())
    fail(ErrorCode::invalid_argument,
         "[engine] the prompt has {} tokens but the context limit is {} (model context {}, KV budget {} tokens)",
         prompt.size(), e.context_limit(), e.model->context_length(), e.budget_tokens());
  s->sampler.emplace(request.sampling, e.model->vocab_size());
  s->detokenizer.emplace(tok, /*skip_special=*/true);
  s->stop.emplace(request.stop);
  s->result.prompt_tokens = static_cast<int64_t>(prompt.size());

  if (request.session) {
    auto it = e.sessions.find(request.session);
    if (it == e.sessions.end())
      fail(ErrorCode::invalid_argument, "[engine] session {} does not exist", request.session);
    Session& session = it->second;
    if (session.busy) fail(ErrorCode::invalid_argument, "[engine] session {} already has a request running", request.session);
    // Reuse the longest cached prefix, keeping at least one prompt token to compute.
    size_t common = 0;
    const size_t cached = static_cast<size_t>(session.kv.n_tokens);
    while (common < cached && common < session.tokens.size() && common + 1 < prompt.size() &&
           session.tokens[common] == prompt[common])
      ++common;
    session.kv.n_tokens = static_cast<int64_t>(common);
    const int64_t bt = e.cache.layout().block_tokens;
    const size_t blocks_needed = (common + static_cast<size_t>(bt) - 1) / static_cast<size_t>(bt);
    while (session.kv.blocks.size() > blocks_needed) {
      e.cache.free_block(session.kv.blocks.back());
      session.kv.blocks.pop_back();
    }
    session.busy = true;
    s->kv = &session.kv;
    s->session = request.session;
    s->result.reused_tokens = static_cast<int64_t>(common);
  } else {
    s->kv = &s->own_kv;
  }
  s->tokens = std::move(prompt);
  s->request = std::move(request);
  s->on_text = std::move(on_text);
  s->id = e.next_request++;
  const RequestId id = s->id;
  if (s->request.max_tokens == 0) {
    e.finish(*s, FinishReason::length);
    e.results[id] = std::move(s->result);
    return id;
  }
  e.active.emplace(id, std::move(s));
  return id;
}

void Engine::cancel(RequestId id) noexcept {
  try {
    std::lock_guard lock(impl_->cancel_mutex);
    impl_->cancelled.insert(id);
  } catch (...) {
  }
}

bool Engine::step() { return impl_->step(); }

void Engine::run_until_done() {
  while (impl_->step()) {
  }
}

bool Engine::finished(RequestId id) const { return impl_->results.count(id) > 0; }

GenerationResult Engine::take_result(RequestId id) {
  auto it = impl_->results.find(id);
  if (it == impl_->results.end())
    fail(ErrorCode::invalid_argument, "[engine] request {} is {}", id,
         impl_->active.count(id) ? "still running" : "unknown (or its result was already taken)");
  GenerationResult r = std::move(it->second);
  impl_->results.erase(it);
  return r;
}

GenerationResult Engine::generate(GenerationRequest request, StreamCallback on_text) {
  const RequestId id = submit(std::move(request), std::move(on_text));
  while (!finished(id) && step()) {
  }
  return take_result(id);
}

SessionId Engine::open_session() {
  const SessionId id = impl_->next_session++;
  impl_->sessions.emplace(id, Session{});
  return id;
}

void Engine::close_session(SessionId id) {
  auto it = impl_->sessions.find(id);
  if (it == impl_->sessions.end()) fail(ErrorCode::invalid_argument, "[engine] session {} does not exist", id);
  if (it->second.busy) fail(ErrorCode::invalid_argument, "[engine] session {} has a request running", id);
  runtime::release(impl_->cache, it->second.kv);
  impl_->sessions.erase(it);
}

void Engine::reset_session(SessionId id) {
  auto it = impl_->sessions.find(id);
  if (it == impl_->sessions.end()) fail(ErrorCode::invalid_argument, "[engine] session {} does not exist", id);
  if (it->second.busy) fail(ErrorCode::invalid_argument, "[engine] session {} has a request running", id);
  runtime::release(impl_->cache, it->second.kv);
  it->second.tokens.clear();
}

// Runs `ids` through a fresh sequence in max_batch_tokens chunks; returns every position's
// logits, or its final-norm hidden states when `hidden` (row width `width`).
std::vector<float> Engine::Impl::every_position(std::span<const int32_t> ids, bool hidden, const char* what) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) fail(ErrorCode::invalid_argument, "[engine] {}: no token ids", what);
  if (n > context_limit())
    fail(ErrorCode::invalid_argument, "[engine] {}: {} tokens exceed the context limit {}", what, n, context_limit());
  // Token ids are checked by the forward pass (invalid_argument naming the id).
  runtime::KvSequence kv;
  if (!runtime::reserve_tokens(cache, kv, n))
    fail(ErrorCode::invalid_argument, "[engine] {}: the KV cache has no room for {} tokens while other requests run",
         what, n);
  const int64_t width = hidden ? model->hidden_size() : model->vocab_size();
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n * width));
  std::vector<float> chunk_out;
  try {
    for (int64_t from = 0; from < n; from += options.max_batch_tokens) {
      const int64_t count = std::min(options.max_batch_tokens, n - from);
      model::Batch batch;
      batch.tokens.assign(ids.begin() + from, ids.begin() + from + count);
      batch.sequences.push_back({&kv, 0, count, false, true});
      batch.hidden_states = hidden;
      runner.forward(batch, *kv_storage, chunk_out);
      out.insert(out.end(), chunk_out.begin(), chunk_out.begin() + count * width);
    }
  } catch (...) {
    runtime::release(cache, kv);
    throw;
  }
  runtime::release(cache, kv);
  return out;
}

std::vector<float> Engine::logits(std::span<const int32_t> ids) { return impl_->every_position(ids, false, "logits"); }

std::vector<float> Engine::embeddings(std::span<const int32_t> ids, Pooling pooling, bool normalize) {
  std::vector<float> rows = impl_->every_position(ids, true, "embeddings");
  const size_t hidden = static_cast<size_t>(impl_->model->hidden_size());
  const size_t n = ids.size();
  std::vector<float> out;
  if (pooling == Pooling::none) {
    out = std::move(rows);
  } else if (pooling == Pooling::last) {
    out.assign(rows.end() - static_cast<std::ptrdiff_t>(hidden), rows.end());
  } else {
    std::vector<double> sum(hidden, 0.0);
    for (size_t r = 0; r < n; ++r)
      for (size_t j = 0; j < hidden; ++j) sum[j] += rows[r * hidden + j];
    out.resize(hidden);
    for (size_t j = 0; j < hidden; ++j) out[j] = static_cast<float>(sum[j] / static_cast<double>(n));
  }
  if (normalize) {
    for (size_t r = 0; r < out.size() / hidden; ++r) {
      double ss = 0;
      for (size_t j = 0; j < hidden; ++j) ss += double(out[r * hidden + j]) * out[r * hidden + j];
      const float inv = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
      for (size_t j = 0; j < hidden; ++j) out[r * hidden + j] *= inv;
    }
  }
  return out;
}

const Model& Engine::model() const noexcept { return *impl_->model; }
int64_t Engine::kv_free_tokens() const noexcept {
  return impl_->cache.free_blocks() * impl_->cache.layout().block_tokens;
}

}  // namespace ollm
