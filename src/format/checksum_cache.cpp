// The checksum cache file (see checksum_cache.hpp). Line format, one per file:
//   v1 <device> <inode> <size> <mtime ns> <ctime ns> <sha256> <check> <path>
// where <check> is the FNV-1a 64 hash (16 hex digits) of everything else on the line; the path
// is informative only (the identity is what is matched).
#include "format/checksum_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "util/fail.hpp"
#include "util/log_internal.hpp"

namespace ollm::format {

namespace fs = std::filesystem;

namespace {

constexpr size_t max_entries = 1024;          // oldest dropped beyond this
constexpr uintmax_t max_file_bytes = 1 << 20;  // a larger file is not ours to parse: start afresh

struct Entry {
  FileIdentity id;
  std::string sha256;
  std::string path;
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string body_of(const Entry& e) {
  return fmt::format("v1 {} {} {} {} {} {}", e.id.device, e.id.inode, e.id.size, e.id.mtime_ns, e.id.ctime_ns,
                     e.sha256);
}

std::string line_of(const Entry& e) {
  const std::string body = body_of(e);
  return fmt::format("{} {:016x} {}\n", body, fnv1a(body + " " + e.path), e.path);
}

bool is_hex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<Entry> parse_line(const std::string& line) {
  std::istringstream in(line);
  std::string tag, check;
  Entry e;
  if (!(in >> tag >> e.id.device >> e.id.inode >> e.id.size >> e.id.mtime_ns >> e.id.ctime_ns >> e.sha256 >> check))
    return std::nullopt;
  if (tag != "v1" || !is_hex(e.sha256, 64) || !is_hex(check, 16)) return std::nullopt;
  std::string rest;
  std::getline(in, rest);
  if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
  e.path = rest;
  if (fmt::format("{:016x}", fnv1a(body_of(e) + " " + e.path)) != check) return std::nullopt;
  return e;
}

std::vector<Entry> read_entries(const fs::path& path) {
  std::vector<Entry> out;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > max_file_bytes || ec) return out;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line))
    if (auto e = parse_line(line)) out.push_back(std::move(*e));
  return out;
}

}  // namespace

std::optional<FileIdentity> identify_file(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FileIdentity id;
  id.device = static_cast<uint64_t>(st.st_dev);
  id.inode = static_cast<uint64_t>(st.st_ino);
  id.size = static_cast<uint64_t>(st.st_size);
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  id.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return id;
}

ChecksumCache::ChecksumCache(fs::path path) : path_(std::move(path)) {}

fs::path ChecksumCache::default_path() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg && fs::path(xdg).is_absolute()) return fs::path(xdg) / "ollm" / "verified-sha256";
  const char* home = std::getenv("HOME");
  if (home && *home && fs::path(home).is_absolute()) return fs::path(home) / ".cache" / "ollm" / "verified-sha256";
  return {};
}

std::optional<std::string> ChecksumCache::lookup(const FileIdentity& id) const {
  if (path_.empty()) return std::nullopt;
  std::optional<std::string> found;
  for (const Entry& e : read_entries(path_))
    if (e.id == id) found = e.sha256;  // the last line wins
  return found;
}

void ChecksumCache::record(const FileIdentity& id, const std::string& sha256, const fs::path& file) const noexcept {
  if (path_.empty()) return;
  try {
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    // Writers take the lock file, read, and replace the cache by rename: a reader sees the old
    // file or the new one, never half of either.
    const fs::path lock_path = fs::path(path_.string() + ".lock");
    const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0) fail(ErrorCode::io, "cannot open {}", lock_path.string());
    struct Unlock {
      int fd;
      ~Unlock() { ::close(fd); }  // closing releases the flock
    } unlock{lock};
    if (::flock(lock, LOCK_EX) != 0) fail(ErrorCode::io, "cannot lock {}", lock_path.string());
    std::vector<Entry> entries = read_entries(path_);
    std::erase_if(entries, [&](const Entry& e) { return e.id.device == id.device && e.id.inode == id.inode; });
    std::string name = file.string();
    std::replace(name.begin(), name.end(), '\n', '?');
    entries.push_back({id, sha256, name});
    if (entries.size() > max_entries) entries.erase(entries.begin(), entries.end() - max_entries);
    const fs::path tmp = fs::path(path_.string() + ".tmp." + std::to_string(::getpid()));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      for (const Entry& e : entries) out << line_of(e);
      out.flush();
      if (!out) fail(ErrorCode::io, "cannot write {}", tmp.string());
    }
    fs::rename(tmp, path_, ec);
    if (ec) {
      fs::remove(tmp, ec);
      fail(ErrorCode::io, "cannot replace {}", path_.string());
    }
  } catch (const std::exception& e) {
    try {
      detail::log(LogLevel::warning, "[model] checksum cache {} not updated: {}", path_.string(), e.what());
    } catch (...) {
    }
  }
}

}  // namespace ollm::format
