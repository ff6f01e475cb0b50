#include "host/outputs/integrity_footer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/common/errors.h"
#include "host/common/text.h"
#include "host/outputs/checked_file.h"

namespace dosemap {

namespace {

// Layout (little-endian): "DOSEMAP1", content bytes (u64), XXH3-64 of the content (u64),
// "INTEGRTY". The two magic words make a record that happens to be cut or shifted
// recognisable as such.
constexpr char kHead[8] = {'D', 'O', 'S', 'E', 'M', 'A', 'P', '1'};
constexpr char kTail[8] = {'I', 'N', 'T', 'E', 'G', 'R', 'T', 'Y'};

void put_u64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint64_t get_u64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void append_integrity_footer(CheckedFile& file) {
  const uint64_t hash = file.hash_contents();
  const int64_t size = file.size();
  char record[kIntegrityFooterBytes];
  std::memcpy(record, kHead, 8);
  put_u64(record + 8, static_cast<uint64_t>(size));
  put_u64(record + 16, hash);
  std::memcpy(record + 24, kTail, 8);
  file.stream().seekp(0, std::ios::end);
  file.stream().write(record, sizeof record);
}

int64_t verify_integrity_footer(const std::string& path) {
  const SourcePos where{path, 0, 0};
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) throw UserError(where, std::string("cannot read: ") + std::strerror(errno), "check the path");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw UserError(where, "is not a regular file", "give the path of a .vdb file written by dosemap run");
  const int64_t size = static_cast<int64_t>(st.st_size);
  const std::string not_ours = "check the path; a file written by dosemap before 0.2 has no such record";
  char record[kIntegrityFooterBytes];
  if (size < kIntegrityFooterBytes ||
      ::pread(f.fd, record, sizeof record, static_cast<off_t>(size - kIntegrityFooterBytes)) != kIntegrityFooterBytes)
    throw UserError(where, "is too short (" + std::to_string(size) + " bytes) to be a complete dosemap file",
                    "the file was cut off (disk full, interrupted copy?): run again or copy it again");
  if (std::memcmp(record + 24, kTail, 8) != 0 || std::memcmp(record, kHead, 8) != 0)
    throw UserError(where, "has no dosemap integrity record at its end: it was cut off, or not written by dosemap",
                    not_ours);
  const uint64_t content = get_u64(record + 8);
  if (content != static_cast<uint64_t>(size - kIntegrityFooterBytes))
    throw UserError(where, "does not have the length its integrity record gives (" + group_digits(static_cast<long long>(content)) +
                               " bytes of content, found " + group_digits(size - kIntegrityFooterBytes) + ")",
                    "the file was altered or cut and padded: run again or copy it again");
  uint64_t hash = 0;
  if (const int error = hash_file_prefix(f.fd, static_cast<int64_t>(content), hash))
    throw UserError(where, std::string("cannot read: ") + std::strerror(error), "check the disk");
  if (hash != get_u64(record + 16))
    throw UserError(where, "is corrupt: its content does not match its integrity record",
                    "the file was altered after dosemap wrote it: run again or restore it from a good copy");
  return static_cast<int64_t>(content);
}

}  // namespace dosemap
