// Checksum manifests checked by default (ChecksumPolicy::automatic) and the cache of verified
// files: a file is hashed once, then known by its identity (device, inode, size, times) until it
// changes; always re-hashes, never skips; a damaged cache or concurrent writers cost a re-hash at
// most. Hash counts are read from the load's log line, not from timings.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "format/checksum_manifest.hpp"
#include "ollm/error.hpp"
#include "ollm/log.hpp"
#include "ollm/model.hpp"

namespace fs = std::filesystem;
using namespace ollm;

namespace {

struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  LogCapture() {
    set_log_callback(
        [this](LogLevel, std::string_view m) {
          std::lock_guard lock(mutex);
          lines.emplace_back(m);
        },
        LogLevel::info);
  }
  ~LogCapture() { set_log_callback({}, LogLevel::off); }
  // {hashed, cached} of the last "file(s) match" line, or {-1, -1}.
  std::pair<int, int> last_counts() {
    std::lock_guard lock(mutex);
    static const std::regex re(R"(\((\d+) hashed, (\d+) known to the checksum cache\))");
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      std::smatch m;
      if (std::regex_search(*it, m, re)) return {std::stoi(m[1]), std::stoi(m[2])};
    }
    return {-1, -1};
  }
  void clear() {
    std::lock_guard lock(mutex);
    lines.clear();
  }
};

const fs::path tiny = fs::path(OLLM_TEST_DATA) / "models" / "llama" / "model.gguf";

fs::path fresh_dir(const char* name) {
  const fs::path dir = fs::path(OLLM_BUILD_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_manifest(const fs::path& model, const std::string& digest) {
  std::ofstream(model.string() + ".sha256") << digest << "  " << model.filename().string() << "\n";
}

ModelLoadOptions with_cache(const fs::path& cache, ChecksumPolicy policy = ChecksumPolicy::automatic) {
  ModelLoadOptions o;
  o.verify_checksums = policy;
  o.checksum_cache = cache;
  return o;
}

}  // namespace

TEST_CASE("a manifest is checked by default, once: the cache knows the file until it changes") {
  const fs::path dir = fresh_dir("checksum_cache_default");
  const fs::path model = dir / "model.gguf", cache = dir / "cache" / "verified-sha256";
  fs::copy_file(tiny, model);
  const std::string digest = format::sha256_file(model);
  write_manifest(model, digest);
  LogCapture log;

  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{1, 0});  // hashed, and remembered
  REQUIRE(fs::exists(cache));
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{0, 1});  // not read again
  CHECK_NOTHROW(Model::load(model, with_cache(cache, ChecksumPolicy::always)));
  CHECK(log.last_counts() == std::pair{1, 0});  // always: hashed whatever the cache says

  // The same bytes rewritten (new modification time): hashed again, then known again.
  fs::copy_file(tiny, model, fs::copy_options::overwrite_existing);
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{1, 0});
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{0, 1});

  // Modified after caching (one byte of the last tensor, same size): re-verified, and refused
  // naming the file, the manifest and both hashes.
  {
    std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x55');
  }
  const std::string modified = format::sha256_file(model);
  REQUIRE(modified != digest);
  const std::string want = "checksum mismatch for " + model.string() + ": manifest " + model.string() + ".sha256 says " +
                           digest + ", the file hashes to " + modified;
  CHECK_THROWS_WITH_AS(Model::load(model, with_cache(cache)), doctest::Contains(want.c_str()), Error);
  // never: the manifest is not even read.
  log.clear();
  CHECK_NOTHROW(Model::load(model, with_cache(cache, ChecksumPolicy::never)));
  CHECK(log.last_counts() == std::pair{-1, -1});
  fs::remove_all(dir);
}

TEST_CASE("a damaged checksum cache costs a re-hash, never a wrong answer or a failed load") {
  const fs::path dir = fresh_dir("checksum_cache_damaged");
  const fs::path model = dir / "model.gguf", cache = dir / "verified-sha256";
  fs::copy_file(tiny, model);
  const std::string digest = format::sha256_file(model);
  write_manifest(model, digest);
  LogCapture log;
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{1, 0});
  std::string text;
  {
    std::ifstream in(cache);
    std::getline(in, text);
  }
  REQUIRE(text.find(digest) != std::string::npos);
  // One character of the recorded line changed: its check fails, the line is ignored.
  std::string damaged = text;
  damaged[3] = damaged[3] == '1' ? '2' : '1';
  std::ofstream(cache) << damaged << "\n" << "garbage line\n" << std::string(100, '\xff') << "\n";
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{1, 0});
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));  // rewritten whole: known again
  CHECK(log.last_counts() == std::pair{0, 1});
  // A cache line claiming another hash for this identity does not make the file pass: the
  // file is hashed and the manifest's hash checked against what it really is.
  std::string lying = text;
  lying.replace(lying.find(digest), 64, std::string(64, 'a'));
  std::ofstream(cache) << lying << "\n";
  CHECK_NOTHROW(Model::load(model, with_cache(cache)));
  CHECK(log.last_counts() == std::pair{1, 0});
  // A cache that cannot be written (its directory is a file) only costs the hash.
  const fs::path blocked = dir / "not-a-dir" / "verified-sha256";
  std::ofstream(dir / "not-a-dir") << "x";
  CHECK_NOTHROW(Model::load(model, with_cache(blocked)));
  CHECK(log.last_counts() == std::pair{1, 0});
  fs::remove_all(dir);
}

TEST_CASE("concurrent loads writing one checksum cache all end up remembered") {
  const fs::path dir = fresh_dir("checksum_cache_concurrent");
  const fs::path cache = dir / "verified-sha256";
  const std::string digest = format::sha256_file(tiny);
  constexpr int n = 6;
  std::vector<fs::path> models;
  for (int i = 0; i < n; ++i) {
    models.push_back(dir / ("model" + std::to_string(i) + ".gguf"));
    fs::copy_file(tiny, models.back());
    write_manifest(models.back(), digest);
  }
  {
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        try {
          Model::load(models[static_cast<size_t>(i)], with_cache(cache));
        } catch (...) {
          ++failed;
        }
      });
    for (auto& t : threads) t.join();
    CHECK(failed == 0);
  }
  LogCapture log;
  for (const fs::path& m : models) {
    CAPTURE(m.string());
    CHECK_NOTHROW(Model::load(m, with_cache(cache)));
    CHECK(log.last_counts() == std::pair{0, 1});
  }
  fs::remove_all(dir);
}
