// A new output file written through a std::ostream whose every write is checked. The file
// is created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW: nothing already at the name, not
// even a planted symbolic link, is followed or replaced); the first failing write(2) keeps
// its errno (ENOSPC, EIO, ...), and finish() flushes, fsyncs and closes, checking each, so
// that a file reported written is on disk whole. Seekable, as OpenVDB's writer needs.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

struct XXH3_state_s;

namespace dosemap {

// Buffers of one size (uninitialized) handed back for reuse by later files: a run writes
// dozens of files, and a fresh megabyte's pages each cost a page fault (in a VM, more than
// writing them), so files borrow these instead of allocating their own.
class IoBufferPool {
 public:
  static constexpr size_t kBytes = size_t(1) << 20;
  using Buffer = std::unique_ptr<char[]>;
  static Buffer take();
  static void give_back(Buffer b);
  // A buffer of the pool for the scope of one use.
  struct Borrowed {
    Buffer buffer = take();
    Borrowed() = default;
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    ~Borrowed() { give_back(std::move(buffer)); }
    char* data() const { return buffer.get(); }
  };

 private:
  static std::mutex mutex_;
  static std::vector<Buffer> free_;
};

class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd);
  ~FdStreamBuf() override;
  FdStreamBuf(const FdStreamBuf&) = delete;
  FdStreamBuf& operator=(const FdStreamBuf&) = delete;
  int error() const { return error_; }  // first errno of a failed write or seek; 0 if none
  // From the file's first byte on, hashes (XXH3-64) what is written while it is written in
  // order: reading a large file back to hash it cost some 5 % of writing it.
  void hash_as_written();
  // The hash of the file's first `bytes` bytes when every byte was written once, in order,
  // since hash_as_written (no seek back to patch, no gap); false otherwise.
  bool hash_written(int64_t bytes, uint64_t& hash) const;

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override;
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;

 private:
  bool drain();
  bool write_all(const char* data, size_t n);
  int fd_;
  int error_ = 0;
  size_t unsynced_bytes_ = 0;  // written since the disk was last asked to take the file's pages
  IoBufferPool::Buffer buffer_;  // IoBufferPool::kBytes
  int64_t position_ = 0;         // the file offset write(2) writes at next
  // hash_as_written's: the hash of the file's first hashed_bytes_ bytes while in_order_.
  std::unique_ptr<XXH3_state_s, void (*)(XXH3_state_s*)> hash_state_{nullptr, nullptr};
  int64_t hashed_bytes_ = 0;
  bool in_order_ = false;
};

// XXH3-64 of the first `bytes` bytes of an open file, read with pread (its offset is left
// alone). Returns 0 and sets `hash`, or the errno of the failure (EIO at an early end).
int hash_file_prefix(int fd, int64_t bytes, uint64_t& hash);

class CheckedFile {
 public:
  // Throws UserError when the file cannot be created (it exists, or the directory is not
  // writable). `shown` names the file in messages (e.g. "out/run/dose.vdb").
  CheckedFile(const std::string& path, std::string shown);
  ~CheckedFile();
  CheckedFile(const CheckedFile&) = delete;
  CheckedFile& operator=(const CheckedFile&) = delete;

  std::ostream& stream() { return *stream_; }
  // Bytes written so far (the file's size), after flushing; throws UserError on a failure.
  int64_t size();
  // The XXH3 64-bit hash of the whole file as it is now (flushed): the one computed as it was
  // written when hash_as_written() came first and nothing was patched since; else the file
  // is read back (formats whose writer seeks back to patch earlier bytes). Throws UserError
  // on a failure.
  uint64_t hash_contents();
  // Hash the bytes as they are written (FdStreamBuf::hash_as_written): before the first.
  void hash_as_written() { buf_->hash_as_written(); }
  // Flushes, fsyncs and closes; throws UserError naming the file and the first error.
  void finish();

 private:
  [[noreturn]] void fail(int error);
  void flush_or_fail();
  int fd_ = -1;
  std::string shown_;
  std::unique_ptr<FdStreamBuf> buf_;
  std::unique_ptr<std::ostream> stream_;
};

}  // namespace dosemap
