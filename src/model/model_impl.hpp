// What a loaded Model holds: the spec (and through it the file mappings), the tokenizer, the
// decoder description, the device and the weights placed on it. Read-only after load.
#pragma once

#include <optional>

#include "backend/backend.hpp"
#include "model/decoder_config.hpp"
#include "model/decoder_weights.hpp"
#include "ollm/model.hpp"

namespace ollm {

struct Model::Impl {
  ModelSpec spec;
  std::optional<Tokenizer> tokenizer;   // absent: Model::tokenizer() throws missing_tokenizer
  std::string missing_tokenizer;
  std::optional<ChatTemplate> chat_template;
  model::DecoderConfig config;
  std::shared_ptr<backend::Device> device;     // ModelLoadOptions::device
  std::unique_ptr<backend::WeightStore> store;  // the weights on that device (outlives `weights`)
  model::DecoderWeights weights;
  std::vector<std::unique_ptr<uint8_t[]>> read_copies;  // use_mmap = false: the tensor bytes
};

}  // namespace ollm
