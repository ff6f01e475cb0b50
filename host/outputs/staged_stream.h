// Bytes of a file kept in memory as they will lie in it from `base` on: the stream's
// positions (tellp, seekp) are the file's, so a writer that seeks back to patch its own bytes
// (OpenVDB's grid layout writes a grid's offsets before the grid, then patches them) does so
// here, and the file then gets the part in one write, in order: the file's hash is taken as
// it is written (FdStreamBuf::hash_as_written) instead of reading the file back.
#pragma once

#include <cstdint>
#include <cstring>
#include <ios>
#include <streambuf>
#include <string>

namespace dosemap {

class StagedBytes : public std::streambuf {
 public:
  explicit StagedBytes(int64_t base) : base_(base) {}
  const std::string& bytes() const { return bytes_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const size_t end = at_ + static_cast<size_t>(n);
    if (end > bytes_.size()) bytes_.resize(end);
    std::memcpy(&bytes_[at_], s, static_cast<size_t>(n));
    at_ = end;
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }
  // Positions are the file's; only those within what is staged can be reached.
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    const int64_t size = static_cast<int64_t>(bytes_.size());
    const int64_t at = dir == std::ios_base::beg ? off - base_
                       : dir == std::ios_base::cur ? static_cast<int64_t>(at_) + off
                                                   : size + off;
    if (at < 0 || at > size) return pos_type(off_type(-1));
    at_ = static_cast<size_t>(at);
    return pos_type(static_cast<off_type>(base_ + at));
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }

 private:
  int64_t base_;
  size_t at_ = 0;
  std::string bytes_;
};

}  // namespace dosemap
