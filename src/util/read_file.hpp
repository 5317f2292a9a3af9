// Opening files named by users (models, tokenizers, configs, manifests, templates) without ever
// blocking: a FIFO, socket or device given as a path is refused by name instead of waiting forever.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ollm {

// An owned file descriptor, closed on destruction.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

// Opens `path` read-only. The open itself uses O_NONBLOCK (opening a FIFO for reading otherwise
// waits for a writer), then fstat refuses anything that is not a regular file. `size` receives the
// file's size. Throws Error(io): "[{component}] cannot open '{path}': {OS reason}" (a symbolic link
// loop reads "Too many levels of symbolic links") or "[{component}] '{path}' is a FIFO, not a
// regular file" (a directory, a socket, a character device, ...).
FileDescriptor open_regular_file(const std::filesystem::path& path, std::string_view component, uint64_t& size);

// The whole file, with `padding` zero bytes of capacity after its end (simdjson reads past the
// end of its input). Same errors as open_regular_file, plus io when the read fails or comes up short.
std::string read_regular_file(const std::filesystem::path& path, std::string_view component, size_t padding = 0);

// "a directory", "a FIFO", "a socket", "a character device", "a block device", "a symbolic link",
// "a regular file" or "a special file", for messages.
std::string_view file_type_description(unsigned mode) noexcept;

// Whether anything (a file, a directory, a dangling link...) sits at `path`. Callers use this
// instead of is_regular_file() for "is it there?", so that an entry of the wrong type reaches the
// open and is reported as what it is instead of as missing.
bool path_entry_exists(const std::filesystem::path& path) noexcept;

}  // namespace ollm
