// A read-only memory mapping of a whole file; weights are read in place from it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace ollm {

class MappedFile {
 public:
  // Throws Error(io) naming the path and the OS reason.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ollm
