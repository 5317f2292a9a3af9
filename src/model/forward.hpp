// The decoder forward pass over one batch: rows from several sequences (prefill chunks and
// decode tokens mixed), each sequence attending to its own KV blocks. Written against the backend
// seam (backend/backend.hpp): the order of ops of one step, nothing device-specific; knows nothing
// of sampling or scheduling.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "backend/backend.hpp"
#include "model/decoder_config.hpp"
#include "model/decoder_weights.hpp"
#include "runtime/kv_cache.hpp"

namespace ollm::model {

struct BatchSequence {
  runtime::KvSequence* kv = nullptr;  // holds kv->n_tokens cached tokens; the batch appends
  int64_t first_row = 0;              // rows [first_row, first_row + n_rows) of the batch
  int64_t n_rows = 0;                 // positions kv->n_tokens .. + n_rows - 1
  bool logits_last = false;           // logits for the last row
  bool logits_all = false;            // logits for every row (verification)
};

struct Batch {
  std::vector<int32_t> tokens;        // [n_rows]
  std::vector<BatchSequence> sequences;
  // Instead of logits, write the final-norm hidden states ([rows, hidden]) of the same rows:
  // the model's embeddings of those positions (the output matrix is skipped).
  bool hidden_states = false;
};

// Device scratch that grows to the largest request seen; its contents do not survive growth.
class ScratchBuffer {
 public:
  void* bytes(backend::Backend& backend, size_t count);
  float* floats(backend::Backend& backend, int64_t count) {
    return static_cast<float*>(bytes(backend, static_cast<size_t>(count) * sizeof(float)));
  }
  int32_t* ints(backend::Backend& backend, int64_t count) {
    return static_cast<int32_t*>(bytes(backend, static_cast<size_t>(count) * sizeof(int32_t)));
  }

 private:
  std::unique_ptr<backend::Buffer> buffer_;
};

class DecoderRunner {
 public:
  // Rows per pass through the MLP (see mlp_block).
  static constexpr int64_t mlp_chunk_rows = 256;

  // backend: the engine's (its numerics pick the rounding steps; Numerics::llamacpp's attention
  // needs an F16 or F32 KV cache, which the engine checks).
  DecoderRunner(const DecoderConfig& config, const DecoderWeights& weights, backend::Backend& backend);

  // Runs the batch, appends every row's K/V to its sequence (the caller reserved the blocks)
  // and advances kv->n_tokens. logits (host): [rows with logits, vocab] in sequence order, the
  // rows of a logits_all sequence in position order (or their hidden states, batch.hidden_states).
  // Returns the number of rows written.
  // Token ids are validated (invalid_argument naming the id).
  int64_t forward(const Batch& batch, backend::KvStorage& kv, std::vector<float>& logits);

  const DecoderConfig& config() const noexcept { return config_; }

 private:
  // The step's indices (token ids, positions, KV slots, block tables, logit rows), validated.
  void build_step(const Batch& batch, int64_t block_tokens);
  void attention_block(int64_t layer, const backend::DeviceStep& step, backend::KvStorage& kv);
  void mlp_block(int64_t layer, int64_t n);
  void moe_block(int64_t layer, int64_t n);

  const DecoderConfig& config_;
  const DecoderWeights& weights_;
  backend::Backend& backend_;
  std::unique_ptr<backend::RopePlan> rope_, rope_local_;
  backend::StepIndices indices_;
  // Device scratch, grown to the largest batch seen. stage_ is shared by whichever block runs
  // (attention's q/k/v/output, the MLP's intermediates): one request per block.
  ScratchBuffer x_, h_, o_, stage_, router_, sel_w_, sel_ids_, moe_gate_, moe_up_, moe_act_, moe_out_, logit_in_, logits_;
};

}  // namespace ollm::model
