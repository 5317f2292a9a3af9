// POSIX open/fstat/read with the checks every user-named file needs (see read_file.hpp).
#include "util/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/fail.hpp"

namespace ollm {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

std::string_view file_type_description(unsigned mode) noexcept {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
    default: return "a special file";
  }
}

FileDescriptor open_regular_file(const std::filesystem::path& path, std::string_view component, uint64_t& size) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) fail(ErrorCode::io, "[{}] cannot open '{}': {}", component, path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    fail(ErrorCode::io, "[{}] cannot stat '{}': {}", component, path.string(), std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    fail(ErrorCode::io, "[{}] '{}' is {}, not a regular file", component, path.string(),
         file_type_description(static_cast<unsigned>(st.st_mode)));
  // Regular files ignore O_NONBLOCK; cleared anyway so reads keep their usual meaning.
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) (void)::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  size = static_cast<uint64_t>(st.st_size);
  return fd;
}

std::string read_regular_file(const std::filesystem::path& path, std::string_view component, size_t padding) {
  uint64_t size = 0;
  const FileDescriptor fd = open_regular_file(path, component, size);
  if (size > SIZE_MAX - padding)
    fail(ErrorCode::out_of_memory, "[{}] '{}' of {} bytes cannot be held in memory", component, path.string(), size);
  std::string out(static_cast<size_t>(size) + padding, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd.get(), out.data() + done, static_cast<size_t>(size) - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorCode::io, "[{}] cannot read '{}': {}", component, path.string(), std::strerror(errno));
    if (n == 0)
      fail(ErrorCode::io, "[{}] '{}' ended after {} of its {} bytes (was it truncated while being read?)", component,
           path.string(), done, size);
    done += static_cast<size_t>(n);
  }
  out.resize(static_cast<size_t>(size));  // keeps the capacity, and so the zeroed padding
  return out;
}

bool path_entry_exists(const std::filesystem::path& path) noexcept {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

}  // namespace ollm
