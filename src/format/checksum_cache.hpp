// The checksum cache: files whose SHA-256 was computed before, remembered by what identifies their
// exact bytes on this machine (device, inode, size, modification and change times), so that a
// model checked against its manifest once is not read in full on every load. A small text file,
// one line per file, each line carrying its own check so that a damaged line is ignored (it only
// costs a re-hash); writers rewrite it whole under a lock and rename it into place, so readers and
// concurrent writers never see a torn file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ollm::format {

// What identifies a file's contents without reading them.
struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// stat() of the file (symlinks followed); nullopt when it cannot be stat'ed.
std::optional<FileIdentity> identify_file(const std::filesystem::path& file);

class ChecksumCache {
 public:
  // The cache at `path`; an empty path means no cache (lookups miss, records are dropped).
  explicit ChecksumCache(std::filesystem::path path);
  // $XDG_CACHE_HOME/ollm/verified-sha256, else $HOME/.cache/ollm/verified-sha256; empty when
  // neither variable gives an absolute directory.
  static std::filesystem::path default_path();

  const std::filesystem::path& path() const noexcept { return path_; }
  // The SHA-256 recorded for a file with exactly this identity.
  std::optional<std::string> lookup(const FileIdentity& id) const;
  // Remembers that the file with this identity hashes to sha256. Never throws: a cache that
  // cannot be written is reported at warning level and otherwise ignored.
  void record(const FileIdentity& id, const std::string& sha256, const std::filesystem::path& file) const noexcept;

 private:
  std::filesystem::path path_;
};

}  // namespace ollm::format
