#include "host/common/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/common/errors.h"
#include "host/common/text.h"

namespace dosemap {

namespace {
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

void read_small_file(const std::string& path, const std::string& what, int64_t max_bytes, std::string& out) {
  const SourcePos where{path, 0, 0};
  // Non-blocking open: opening a FIFO for reading would otherwise wait for a writer.
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0)
    throw UserError(where, "cannot read " + what + ": " + std::strerror(errno),
                    "check the path (relative paths in a scene are relative to the scene file)");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw UserError(where, "cannot read " + what + ": " + std::strerror(errno), "check the path");
  if (S_ISDIR(st.st_mode)) throw UserError(where, "is a directory, not a " + what, "name the file itself");
  if (!S_ISREG(st.st_mode))
    throw UserError(where, "is not a regular file (a device, FIFO or socket), so it cannot be a " + what,
                    "name a file on disk");
  if (st.st_size > max_bytes)
    throw UserError(where, "is " + human_bytes(static_cast<double>(st.st_size)) + "; a " + what + " may be at most " +
                               human_bytes(static_cast<double>(max_bytes)),
                    "check that this is the right file");
  ::fcntl(f.fd, F_SETFL, ::fcntl(f.fd, F_GETFL) & ~O_NONBLOCK);
  out.clear();
  out.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UserError(where, "cannot read " + what + ": " + std::strerror(errno), "check the file");
    if (n == 0) break;
    // The file may grow while it is read: the limit holds for what is read, too.
    if (static_cast<int64_t>(out.size()) + n > max_bytes)
      throw UserError(where, "grew past " + human_bytes(static_cast<double>(max_bytes)) + " while being read",
                      "check that this is the right file");
    out.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace dosemap
