// Model::load: read the spec, build the tokenizer and chat template, map the family onto the
// decoder description, bind the weights (views into the mapping unless use_mmap is off).
#include <cstring>

#include "format/checksum_manifest.hpp"
#include "model/families.hpp"
#include "model/model_impl.hpp"
#include "ollm/gguf.hpp"
#include "util/fail.hpp"
#include "util/log_internal.hpp"

namespace ollm {
namespace {

void report(const ModelLoadOptions& options, float fraction) {
  if (options.progress && !options.progress(fraction))
    fail(ErrorCode::cancelled, "[model] loading was cancelled by the progress callback at {:.0f}%", fraction * 100);
}

std::optional<ChatTemplate> find_chat_template(const ModelSpec& spec) {
  try {
    if (spec.tokenizer.gguf) {
      const auto config = chat_template_config_from_gguf(spec.tokenizer.gguf->metadata());
      if (!config.templates.empty()) return config.load();
    } else if (!spec.tokenizer.tokenizer_config_json.empty()) {
      const auto config = read_chat_template_config_file(spec.tokenizer.tokenizer_config_json);
      if (!config.templates.empty()) return config.load();
    }
  } catch (const Error& e) {
    // A template ollm cannot parse must not stop plain completion; chat reports it later.
    if (e.code() != ErrorCode::unsupported && e.code() != ErrorCode::not_found) throw;
  }
  return std::nullopt;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, const ModelLoadOptions& options) {
  if (options.device != "cpu")
    fail(ErrorCode::unsupported, "[model] device '{}' is not available for models yet (use \"cpu\")", options.device);
  auto impl = std::make_unique<Impl>();
  report(options, 0.0f);
  if (options.verify_checksums) {
    // Before anything is parsed: a corrupt download is named as such, not as a parse error.
    if (const auto manifest = format::find_checksum_manifest(path)) {
      const int verified = format::verify_checksums(*manifest, path);
      detail::log(LogLevel::info, "[model] {} file(s) match {}", verified, manifest->path.string());
    } else {
      detail::log(LogLevel::info, "[model] no checksum manifest beside {}: nothing to verify", path.string());
    }
  }
  impl->spec = read_model_spec(path);
  require_computable_types(impl->spec);
  impl->config = model::make_decoder_config(impl->spec);
  report(options, 0.1f);

  if (!options.use_mmap) {
    // Copy every tensor out of the mapping so later reads never fault on the file.
    const size_t n = impl->spec.tensors.size();
    for (size_t i = 0; i < n; ++i) {
      auto& t = impl->spec.tensors[i];
      auto copy = std::make_unique<uint8_t[]>(t.data.size());
      std::memcpy(copy.get(), t.data.data(), t.data.size());
      t.data = {copy.get(), t.data.size()};
      impl->read_copies.push_back(std::move(copy));
      if (i % 16 == 0) report(options, 0.1f + 0.6f * static_cast<float>(i) / static_cast<float>(n));
    }
  }
  impl->tokenizer = Tokenizer::from_model_spec(impl->spec);
  report(options, 0.8f);
  impl->chat_template = find_chat_template(impl->spec);
  impl->weights = model::bind_decoder_weights(impl->spec, impl->config);
  report(options, 1.0f);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelSpec& Model::spec() const noexcept { return impl_->spec; }
const std::string& Model::architecture() const noexcept { return impl_->spec.architecture; }
const Tokenizer& Model::tokenizer() const noexcept { return *impl_->tokenizer; }
const std::optional<ChatTemplate>& Model::chat_template() const noexcept { return impl_->chat_template; }
int64_t Model::vocab_size() const noexcept { return impl_->config.vocab; }
int64_t Model::context_length() const noexcept { return impl_->config.context_length; }
int64_t Model::hidden_size() const noexcept { return impl_->config.hidden; }
int64_t Model::n_layers() const noexcept { return impl_->config.n_layers; }
uint64_t Model::weight_bytes() const noexcept { return impl_->spec.total_tensor_bytes(); }
uint64_t Model::bytes_per_token() const noexcept { return impl_->weights.bytes_per_token; }

}  // namespace ollm
