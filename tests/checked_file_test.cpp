// A checked output file's hash (host/outputs/checked_file.h, the integrity records of .vdb
// files): taken as the bytes are written when they are written once and in order, and read
// back from the file when a writer seeks back to patch them or leaves a gap; either way the
// hash of what the file holds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <random>
#include <string>

#include "host/outputs/checked_file.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

// Bytes in pieces of every size, from one byte to more than the stream's buffer.
std::string random_bytes(std::mt19937_64& random, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random());
  return s;
}

struct OpenFile {
  int fd;
  explicit OpenFile(const std::string& path) : fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0644)) {}
  ~OpenFile() { ::close(fd); }
};

TEST(CheckedFile, AFileWrittenInOrderIsHashedAsItIsWritten) {
  test::ScratchDir dir;
  std::mt19937_64 random(7);
  const OpenFile file((dir / "in_order").string());
  ASSERT_GE(file.fd, 0);
  FdStreamBuf buf(file.fd);
  std::ostream os(&buf);
  buf.hash_as_written();
  std::string written;
  for (size_t piece : {size_t(1), size_t(17), IoBufferPool::kBytes - 3, size_t(5), 3 * IoBufferPool::kBytes, size_t(100)}) {
    const std::string bytes = random_bytes(random, piece);
    os.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    written += bytes;
    // Asking where the stream is (a seek that moves nothing) keeps the order.
    ASSERT_EQ(static_cast<size_t>(os.tellp()), written.size());
  }
  os.flush();
  uint64_t hash = 0;
  ASSERT_TRUE(buf.hash_written(static_cast<int64_t>(written.size()), hash));
  EXPECT_EQ(hash, XXH3_64bits(written.data(), written.size()));
  EXPECT_FALSE(buf.hash_written(static_cast<int64_t>(written.size()) - 1, hash));  // not the whole file
}

TEST(CheckedFile, PatchedOrGappedFilesAreHashedFromWhatTheyHold) {
  test::ScratchDir dir;
  std::mt19937_64 random(8);
  for (const int kind : {0, 1, 2}) {
    const bool gap = kind == 1, filled = kind == 2;
    SCOPED_TRACE(gap ? "a gap" : filled ? "a gap filled after what follows it" : "a patch");
    const std::string path = (dir / std::to_string(kind)).string();
    std::string expected;
    {
      CheckedFile f(path, "x");
      f.hash_as_written();
      std::string bytes = random_bytes(random, 2 * IoBufferPool::kBytes + 11);
      f.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      const std::string patch = random_bytes(random, 24);
      if (gap) {
        f.stream().seekp(static_cast<std::streamoff>(bytes.size() + 1000));
        f.stream().write(patch.data(), 24);
        bytes += std::string(1000, '\0') + patch;
      } else if (filled) {  // every byte written once, as many as the file holds, out of order
        const std::streamoff end = static_cast<std::streamoff>(bytes.size());
        f.stream().seekp(end + 24);
        f.stream().write(patch.data(), 24);
        const std::string fill = random_bytes(random, 24);
        f.stream().seekp(end);
        f.stream().write(fill.data(), 24);
        f.stream().seekp(0, std::ios_base::end);
        bytes += fill + patch;
      } else {
        f.stream().seekp(100);
        f.stream().write(patch.data(), 24);
        f.stream().seekp(0, std::ios_base::end);
        bytes.replace(100, 24, patch);
      }
      EXPECT_EQ(f.hash_contents(), XXH3_64bits(bytes.data(), bytes.size()));
      f.finish();
      expected = bytes;
    }
    EXPECT_EQ(test::read_file(path), expected);
  }
}

}  // namespace
}  // namespace dosemap
