// GgufFile: owns the mappings of one GGUF model (one file or all its splits) and the
// merged view of metadata and tensors.
#include <charconv>
#include <optional>
#include <unordered_set>

#include "format/gguf_internal.hpp"
#include "format/mapped_file.hpp"
#include "ollm/gguf.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {

struct GgufFile::State {
  std::vector<std::unique_ptr<MappedFile>> files;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t total_bytes = 0;
  GgufMetadata metadata;
  std::vector<GgufTensorInfo> tensors;
  std::unordered_map<std::string_view, size_t> by_name;

  void index_tensors() {
    by_name.clear();
    for (size_t i = 0; i < tensors.size(); ++i) by_name.emplace(tensors[i].name, i);
  }
};

namespace {

// "name-00001-of-00003.gguf" → {prefix "name", count 3}; nullopt for a plain file name.
struct SplitName {
  std::string prefix;
  int index = 0;
  int count = 0;
};

std::optional<SplitName> parse_split_name(const std::string& filename) {
  constexpr std::string_view suffix = ".gguf";
  // -NNNNN-of-NNNNN.gguf is 20 characters.
  if (filename.size() < 20 + 1 || !filename.ends_with(suffix)) return std::nullopt;
  const std::string_view tail(filename.data() + filename.size() - 20, 15);  // "-00001-of-00003"
  if (tail[0] != '-' || tail.substr(6, 4) != "-of-") return std::nullopt;
  SplitName s;
  auto parse5 = [](std::string_view d, int& v) {
    if (d.size() != 5) return false;
    auto r = std::from_chars(d.data(), d.data() + d.size(), v);
    return r.ec == std::errc{} && r.ptr == d.data() + d.size();
  };
  if (!parse5(tail.substr(1, 5), s.index) || !parse5(tail.substr(10, 5), s.count)) return std::nullopt;
  if (s.index < 1 || s.count < 1 || s.index > s.count) return std::nullopt;
  s.prefix = filename.substr(0, filename.size() - 20);
  return s;
}

// An integer split.* key, or nullopt when absent; a key of another type is a malformed file.
std::optional<int64_t> split_key(const ParsedGguf& part, const std::string& source, std::string_view key) {
  const auto* v = part.metadata.find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_integer())
    fail(ErrorCode::invalid_model_file, "[gguf] {}: {} is {}, expected an integer", source, key,
         gguf_value_type_name(v->type()));
  return v->to_int64(fmt::format("{} in {}", key, source));
}

void check_split_keys(const ParsedGguf& part, const std::string& source, int index, int count) {
  if (const auto no = split_key(part, source, "split.no"); no && *no != index - 1)
    fail(ErrorCode::invalid_model_file, "[gguf] {}: split.no is {}, but the file name says split {} of {} (split.no {})",
         source, *no, index, count, index - 1);
  if (const auto n = split_key(part, source, "split.count"); n && *n != count)
    fail(ErrorCode::invalid_model_file, "[gguf] {}: split.count is {}, but the file name says {}", source, *n, count);
}

}  // namespace

GgufFile GgufFile::open(const std::filesystem::path& path) {
  auto state = std::make_shared<State>();
  const auto split = parse_split_name(path.filename().string());
  const int count = split ? split->count : 1;
  if (split && split->index != 1)
    fail(ErrorCode::invalid_argument, "[gguf] '{}' is split {} of {}; open the first split ({}-00001-of-{:05d}.gguf)",
         path.string(), split->index, split->count, split->prefix, split->count);
  std::unordered_set<std::string> names;
  std::optional<int64_t> expected_tensors;  // split.tensors.count of the first split
  for (int i = 1; i <= count; ++i) {
    const auto file_path = split ? path.parent_path() / fmt::format("{}-{:05d}-of-{:05d}.gguf", split->prefix, i, count) : path;
    if (split && !std::filesystem::exists(file_path))
      fail(ErrorCode::io, "[gguf] split {} of {} is missing: '{}'", i, count, file_path.string());
    auto mapped = std::make_unique<MappedFile>(file_path);
    const std::string source = fmt::format("[gguf] {}", file_path.string());
    ParsedGguf part = parse_gguf_bytes(mapped->bytes(), source, static_cast<uint32_t>(i - 1));
    if (split) {
      check_split_keys(part, file_path.string(), i, count);
    } else if (const auto n = split_key(part, file_path.string(), "split.count"); n && *n > 1) {
      fail(ErrorCode::invalid_model_file,
           "[gguf] {}: split.count is {}, but the file name does not follow NAME-00001-of-{:05d}.gguf, so the other "
           "splits cannot be found (keep the names gguf-split gave them)", file_path.string(), *n, *n);
    }
    if (i == 1) expected_tensors = split_key(part, file_path.string(), "split.tensors.count");
    state->total_bytes += mapped->bytes().size();
    if (i == 1) {
      state->version = part.version;
      state->alignment = part.alignment;
      state->metadata = std::move(part.metadata);
    }
    for (auto& t : part.tensors) {
      if (!names.insert(t.name).second)
        fail(ErrorCode::invalid_model_file, "[gguf] {}: tensor '{}' also appears in an earlier split", file_path.string(), printable(t.name));
      state->tensors.push_back(std::move(t));
    }
    state->files.push_back(std::move(mapped));
  }
  if (split && expected_tensors && *expected_tensors != static_cast<int64_t>(state->tensors.size()))
    fail(ErrorCode::invalid_model_file, "[gguf] {}: split.tensors.count is {}, but the {} splits hold {} tensors",
         path.string(), *expected_tensors, count, state->tensors.size());
  state->index_tensors();
  GgufFile file;
  file.state_ = std::move(state);
  return file;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string_view source) {
  ParsedGguf part = parse_gguf_bytes(bytes, fmt::format("[gguf] {}", source), 0);
  auto state = std::make_shared<State>();
  state->version = part.version;
  state->alignment = part.alignment;
  state->total_bytes = bytes.size();
  state->metadata = std::move(part.metadata);
  state->tensors = std::move(part.tensors);
  state->index_tensors();
  GgufFile file;
  file.state_ = std::move(state);
  return file;
}

uint32_t GgufFile::version() const noexcept { return state_->version; }
uint64_t GgufFile::alignment() const noexcept { return state_->alignment; }
size_t GgufFile::split_count() const noexcept { return std::max<size_t>(1, state_->files.size()); }
uint64_t GgufFile::total_file_bytes() const noexcept { return state_->total_bytes; }
const GgufMetadata& GgufFile::metadata() const noexcept { return state_->metadata; }
const std::vector<GgufTensorInfo>& GgufFile::tensors() const noexcept { return state_->tensors; }
std::shared_ptr<const void> GgufFile::storage() const noexcept { return state_; }

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const noexcept {
  auto it = state_->by_name.find(name);
  return it == state_->by_name.end() ? nullptr : &state_->tensors[it->second];
}

}  // namespace ollm
