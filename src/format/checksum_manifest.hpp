// Model checksum manifests: a sha256sum-format file ("<64 hex>  <file name>" per line) beside the
// model — `<model>.sha256` for a single file, `SHA256SUMS` in its directory (a Hugging Face model
// directory, or a GGUF's folder). Verification hashes each listed file that belongs to the model.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ollm::format {

struct ManifestEntry {
  std::string sha256;            // 64 lowercase hex digits
  std::filesystem::path file;    // resolved against the manifest's directory
};

struct ChecksumManifest {
  std::filesystem::path path;    // the manifest file
  std::vector<ManifestEntry> entries;
};

// The manifest that applies to a model path (a GGUF file or a model directory), if any.
// A malformed manifest throws Error(invalid_model_file) naming the file and line.
std::optional<ChecksumManifest> find_checksum_manifest(const std::filesystem::path& model_path);

// SHA-256 of a file as 64 lowercase hex digits (streamed; io error names the file).
std::string sha256_file(const std::filesystem::path& file);

class ChecksumCache;

struct VerifyReport {
  int hashed = 0;  // files read in full and hashed
  int cached = 0;  // files the cache knew with the manifest's hash (not read)
  int total() const noexcept { return hashed + cached; }
};

// Checks every manifest entry that names the model file itself, or a file inside the model
// directory. Throws Error(invalid_model_file) "[model] checksum mismatch for <file>: manifest
// <path> says <hex>, the file hashes to <hex>", or not_found for a listed file that is missing.
// With a cache, a file whose identity (device, inode, size, times) the cache holds with the
// manifest's hash is not read again (when trust_cache), and every file hashed is recorded.
// Returns how many files were verified, and how (total 0: the manifest lists none of the model's).
VerifyReport verify_checksums(const ChecksumManifest& manifest, const std::filesystem::path& model_path,
                              const ChecksumCache* cache = nullptr, bool trust_cache = true);

}  // namespace ollm::format
