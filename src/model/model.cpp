// Model::load: read the spec, build the tokenizer and chat template, map the family onto the
// decoder description, bind the weights (views into the mapping unless use_mmap is off).
#include <algorithm>
#include <cstring>

#include "format/checksum_cache.hpp"
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

// Why the model has no tokenizer, or empty when it has one to load: a Hugging Face directory
// without tokenizer.json, a GGUF file without tokenizer metadata. A tokenizer that is present
// but broken is not "absent": it still fails the load.
std::string missing_tokenizer(const ModelSpec& spec) {
  if (!spec.tokenizer.tokenizer_json.empty()) return {};
  if (spec.tokenizer.gguf) {
    if (spec.tokenizer.gguf->metadata().contains("tokenizer.ggml.model")) return {};
    return fmt::format("[model] {} has no tokenizer (no tokenizer.ggml.model in its metadata): text cannot be "
                       "tokenized; token ids still work",
                       spec.path.string());
  }
  const std::filesystem::path dir = std::filesystem::is_directory(spec.path) ? spec.path : spec.path.parent_path();
  return fmt::format("[model] {} has no tokenizer ({} is missing): text cannot be tokenized; token ids still work",
                     spec.path.string(), (dir / "tokenizer.json").string());
}

// Before anything is parsed: a corrupt download is named as such, not as a parse error.
void verify_model_files(const std::filesystem::path& path, const ModelLoadOptions& options) {
  const auto manifest = format::find_checksum_manifest(path);
  if (!manifest) {
    detail::log(LogLevel::debug, "[model] no checksum manifest beside {}: nothing to verify", path.string());
    return;
  }
  const format::ChecksumCache cache(options.checksum_cache.empty() ? format::ChecksumCache::default_path()
                                                                   : options.checksum_cache);
  const bool trust_cache = options.verify_checksums == ChecksumPolicy::automatic;
  const format::VerifyReport r = format::verify_checksums(*manifest, path, &cache, trust_cache);
  detail::log(LogLevel::info, "[model] {} file(s) match {} ({} hashed, {} known to the checksum cache)", r.total(),
              manifest->path.string(), r.hashed, r.cached);
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, const ModelLoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->device = backend::open_device(options.device);  // an unknown or absent device fails first
  report(options, 0.0f);
  if (options.verify_checksums != ChecksumPolicy::never) verify_model_files(path, options);
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
  impl->missing_tokenizer = missing_tokenizer(impl->spec);
  if (impl->missing_tokenizer.empty()) impl->tokenizer = Tokenizer::from_model_spec(impl->spec);
  report(options, 0.8f);
  impl->chat_template = find_chat_template(impl->spec);
  impl->store = impl->device->create_weight_store();
  // A device that copies the weights (CUDA) reports its upload: 0.8 .. 1.0 of the load.
  const double total_bytes = std::max<double>(1.0, static_cast<double>(impl->spec.total_tensor_bytes()));
  impl->store->progress = [&options, total_bytes](uint64_t placed) {
    report(options, 0.8f + 0.2f * static_cast<float>(std::min(1.0, static_cast<double>(placed) / total_bytes)));
  };
  impl->weights = model::bind_decoder_weights(impl->spec, impl->config, *impl->device, *impl->store);
  impl->store->progress = nullptr;  // it refers to this call's options
  report(options, 1.0f);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelSpec& Model::spec() const noexcept { return impl_->spec; }
const std::string& Model::architecture() const noexcept { return impl_->spec.architecture; }
const Tokenizer& Model::tokenizer() const {
  if (!impl_->tokenizer) fail(ErrorCode::not_found, "{}", impl_->missing_tokenizer);
  return *impl_->tokenizer;
}
bool Model::has_tokenizer() const noexcept { return impl_->tokenizer.has_value(); }
const std::optional<ChatTemplate>& Model::chat_template() const noexcept { return impl_->chat_template; }
int64_t Model::vocab_size() const noexcept { return impl_->config.vocab; }
int64_t Model::context_length() const noexcept { return impl_->config.context_length; }
int64_t Model::hidden_size() const noexcept { return impl_->config.hidden; }
int64_t Model::n_layers() const noexcept { return impl_->config.n_layers; }
uint64_t Model::weight_bytes() const noexcept { return impl_->spec.total_tensor_bytes(); }
uint64_t Model::bytes_per_token() const noexcept { return impl_->weights.bytes_per_token; }

}  // namespace ollm
