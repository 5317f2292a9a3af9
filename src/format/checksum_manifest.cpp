// Finding, parsing and checking sha256sum-format manifests. Hashing uses OpenSSL's libcrypto
// (Debian libssl-dev): a maintained, SHA-NI-accelerated SHA-256 rather than one of our own.
#include "format/checksum_manifest.hpp"

#include <openssl/evp.h>

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>

#include "format/checksum_cache.hpp"
#include "util/fail.hpp"
#include "util/log_internal.hpp"
#include "util/read_file.hpp"

namespace ollm::format {

namespace fs = std::filesystem;

namespace {

// A FIFO or device in a manifest's place is refused, not waited on.
ChecksumManifest parse_manifest(const fs::path& path) {
  std::istringstream in(read_regular_file(path, "model"));
  ChecksumManifest m{path, {}};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // "<hex><space><space or *><name>" (sha256sum's text and binary modes).
    bool ok = line.size() > 66 && line[64] == ' ' && (line[65] == ' ' || line[65] == '*');
    for (size_t i = 0; ok && i < 64; ++i) ok = std::isxdigit(static_cast<unsigned char>(line[i])) != 0;
    if (!ok)
      fail(ErrorCode::invalid_model_file,
           "[model] checksum manifest {} line {}: expected '<64 hex digits>  <file name>'", path.string(), number);
    std::string hex = line.substr(0, 64);
    for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    m.entries.push_back({hex, path.parent_path() / line.substr(66)});
  }
  return m;
}

}  // namespace

std::optional<ChecksumManifest> find_checksum_manifest(const fs::path& model_path) {
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) {
    if (fs::exists(model_path / "SHA256SUMS", ec)) return parse_manifest(model_path / "SHA256SUMS");
    return std::nullopt;
  }
  fs::path own = model_path;
  own += ".sha256";
  if (fs::exists(own, ec)) return parse_manifest(own);
  const fs::path dir_manifest = model_path.parent_path() / "SHA256SUMS";
  if (fs::exists(dir_manifest, ec)) return parse_manifest(dir_manifest);
  return std::nullopt;
}

std::string sha256_file(const fs::path& file) {
  // Through a descriptor that is known to be a regular file: a FIFO named by a manifest is
  // refused instead of blocking the read.
  uint64_t size = 0;
  const FileDescriptor fd = open_regular_file(file, "model", size);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    fail(ErrorCode::internal, "[model] OpenSSL could not start a SHA-256 digest");
  std::vector<char> buf(size_t{1} << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      fail(ErrorCode::io, "[model] read error in {} while checking its checksum: {}", file.string(), std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

VerifyReport verify_checksums(const ChecksumManifest& manifest, const fs::path& model_path, const ChecksumCache* cache,
                              bool trust_cache) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(model_path, ec);
  const fs::path model = fs::weakly_canonical(model_path, ec);
  VerifyReport report;
  for (const ManifestEntry& e : manifest.entries) {
    const fs::path file = fs::weakly_canonical(e.file, ec);
    const bool belongs = is_dir ? file.parent_path() == model : file == model;
    if (!belongs) continue;
    if (!fs::exists(file, ec))
      fail(ErrorCode::not_found, "[model] {} lists {}, which does not exist", manifest.path.string(), e.file.string());
    const std::optional<FileIdentity> before = cache ? identify_file(file) : std::nullopt;
    if (before && trust_cache && cache->lookup(*before) == e.sha256) {
      detail::log(LogLevel::debug, "[model] {}: verified before with this identity (checksum cache {}), not re-hashed",
                  e.file.string(), cache->path().string());
      ++report.cached;
      continue;
    }
    const std::string actual = sha256_file(file);
    // Remember what the bytes hash to only if the file did not change while it was read.
    if (before && identify_file(file) == before) cache->record(*before, actual, file);
    if (actual != e.sha256)
      fail(ErrorCode::invalid_model_file, "[model] checksum mismatch for {}: manifest {} says {}, the file hashes to {}",
           e.file.string(), manifest.path.string(), e.sha256, actual);
    ++report.hashed;
  }
  return report;
}

}  // namespace ollm::format
