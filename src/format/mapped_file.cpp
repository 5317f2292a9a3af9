// POSIX mmap of model files. An empty file maps to an empty span (mmap refuses length 0).
#include "format/mapped_file.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "util/fail.hpp"
#include "util/read_file.hpp"

namespace ollm {

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  // Refuses FIFOs and devices before anything reads from them (see read_file.hpp).
  uint64_t size = 0;
  const FileDescriptor fd = open_regular_file(path, "file", size);
  if (size > SIZE_MAX) fail(ErrorCode::io, "[file] '{}' of {} bytes cannot be mapped", path.string(), size);
  size_ = static_cast<size_t>(size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED)
      fail(ErrorCode::io, "[file] cannot map '{}' ({} bytes): {}", path.string(), size_, std::strerror(errno));
    data_ = static_cast<const uint8_t*>(p);
  }
  // The descriptor closes here; the mapping stays valid without it.
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace ollm
