// Per-family adapters: map a ModelSpec's hyper-parameters (and the quirks of how each file
// format stores a family) onto the one DecoderConfig. Everything family-specific lives here.
#pragma once

#include "model/decoder_config.hpp"
#include "ollm/model_spec.hpp"

namespace ollm::model {

// Throws Error(unsupported) naming the architecture when no adapter exists, and
// invalid_model_file when the hyper-parameters cannot describe a working decoder.
DecoderConfig make_decoder_config(const ModelSpec& spec);

// Architectures make_decoder_config accepts, for messages and `ollm --version`.
const std::vector<std::string>& supported_architectures();

}  // namespace ollm::model
