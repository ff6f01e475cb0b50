#include "host/outputs/checked_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "host/common/errors.h"
#include "host/common/xxhash_dispatch.h"

namespace dosemap {

std::mutex IoBufferPool::mutex_;
std::vector<IoBufferPool::Buffer> IoBufferPool::free_;

IoBufferPool::Buffer IoBufferPool::take() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      Buffer b = std::move(free_.back());
      free_.pop_back();
      return b;
    }
  }
  return Buffer(new char[kBytes]);
}

void IoBufferPool::give_back(Buffer b) {
  if (!b) return;
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(b));
}

FdStreamBuf::FdStreamBuf(int fd) : fd_(fd), buffer_(IoBufferPool::take()) {
  setp(buffer_.get(), buffer_.get() + IoBufferPool::kBytes);
}

FdStreamBuf::~FdStreamBuf() { IoBufferPool::give_back(std::move(buffer_)); }

void FdStreamBuf::hash_as_written() {
  DOSEMAP_BUG_CHECK(position_ == 0 && pptr() == pbase() && !hash_state_, "hashing starts at a file's first byte");
  hash_state_ = {XXH3_createState(), [](XXH3_state_s* s) { XXH3_freeState(s); }};
  if (!hash_state_) throw std::bad_alloc();
  XXH3_64bits_reset(hash_state_.get());
  in_order_ = true;
}

bool FdStreamBuf::hash_written(int64_t bytes, uint64_t& hash) const {
  if (!in_order_ || hashed_bytes_ != bytes) return false;
  hash = XXH3_64bits_digest(hash_state_.get());
  return true;
}

bool FdStreamBuf::write_all(const char* data, size_t n) {
  const size_t total = n;
  if (in_order_) {  // bytes written anywhere but right after those hashed end the in-order hash
    in_order_ = position_ == hashed_bytes_;
    if (in_order_) {
      XXH3_64bits_update(hash_state_.get(), data, n);
      hashed_bytes_ += static_cast<int64_t>(n);
    }
  }
  while (n > 0) {
    const ssize_t w = ::write(fd_, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (error_ == 0) error_ = w < 0 ? errno : EIO;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
    position_ += w;
  }
  // The disk gets a large file's pages while the rest is still being computed, instead of
  // all of them in the final fsync (which then waits for the tail only). Advice: a failure
  // here shows in that fsync.
  constexpr size_t kWritebackBytes = size_t(32) << 20;
  unsynced_bytes_ += total;
  if (unsynced_bytes_ >= kWritebackBytes) {
    ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
    unsynced_bytes_ = 0;
  }
  return true;
}

bool FdStreamBuf::drain() {
  const size_t n = static_cast<size_t>(pptr() - pbase());
  setp(buffer_.get(), buffer_.get() + IoBufferPool::kBytes);
  return error_ == 0 && write_all(buffer_.get(), n);
}

FdStreamBuf::int_type FdStreamBuf::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

std::streamsize FdStreamBuf::xsputn(const char* s, std::streamsize n) {
  if (error_ != 0) return 0;
  if (n <= epptr() - pptr()) {
    std::memcpy(pptr(), s, static_cast<size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  // Large writes go straight to the file after what is buffered.
  if (!drain() || !write_all(s, static_cast<size_t>(n))) return 0;
  return n;
}

int FdStreamBuf::sync() { return drain() ? 0 : -1; }

FdStreamBuf::pos_type FdStreamBuf::seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) {
  if (!drain()) return pos_type(off_type(-1));
  const int whence = dir == std::ios_base::beg ? SEEK_SET : dir == std::ios_base::cur ? SEEK_CUR : SEEK_END;
  const off_t at = ::lseek(fd_, static_cast<off_t>(off), whence);
  if (at < 0) {
    if (error_ == 0) error_ = errno;
    return pos_type(off_type(-1));
  }
  position_ = static_cast<int64_t>(at);
  return pos_type(static_cast<off_type>(at));
}

FdStreamBuf::pos_type FdStreamBuf::seekpos(pos_type pos, std::ios_base::openmode which) {
  return seekoff(off_type(pos), std::ios_base::beg, which);
}

int hash_file_prefix(int fd, int64_t bytes, uint64_t& hash) {
  XXH3_state_t* state = XXH3_createState();
  if (!state) throw std::bad_alloc();
  XXH3_64bits_reset(state);
  const IoBufferPool::Borrowed chunk;
  int error = 0;
  for (int64_t at = 0; at < bytes && error == 0;) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(IoBufferPool::kBytes), bytes - at));
    const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    XXH3_64bits_update(state, chunk.data(), static_cast<size_t>(n));
    at += n;
  }
  hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return error;
}

CheckedFile::CheckedFile(const std::string& path, std::string shown) : shown_(std::move(shown)) {
  // Read-write: hash_contents() reads the file back.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd_ < 0)
    throw UserError(SourcePos{shown_, 0, 0}, std::string("cannot create: ") + std::strerror(errno),
                    "check the output directory's permissions");
  buf_ = std::make_unique<FdStreamBuf>(fd_);
  stream_ = std::make_unique<std::ostream>(buf_.get());
}

CheckedFile::~CheckedFile() {
  if (fd_ >= 0) ::close(fd_);
}

void CheckedFile::fail(int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  throw UserError(SourcePos{shown_, 0, 0}, std::string("cannot write: ") + std::strerror(error),
                  error == ENOSPC || error == EDQUOT ? "free disk space (or raise the quota), or choose another -o DIR"
                                                     : "check the output directory and its disk");
}

void CheckedFile::flush_or_fail() {
  stream_->flush();
  if (buf_->error() != 0) fail(buf_->error());
  if (!*stream_) fail(EIO);
}

int64_t CheckedFile::size() {
  flush_or_fail();
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(errno);
  return static_cast<int64_t>(st.st_size);
}

uint64_t CheckedFile::hash_contents() {
  uint64_t hash = 0;
  const int64_t bytes = size();
  if (buf_->hash_written(bytes, hash)) return hash;
  if (const int error = hash_file_prefix(fd_, bytes, hash)) fail(error);
  return hash;
}

void CheckedFile::finish() {
  flush_or_fail();
  // Delayed allocation and network file systems report a full disk only here.
  if (::fsync(fd_) != 0 && errno != EINVAL) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) fail(errno);
}

}  // namespace dosemap
