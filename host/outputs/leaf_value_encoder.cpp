#include "host/outputs/leaf_value_encoder.h"

#include <lz4.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "host/common/errors.h"
#include "host/common/simd_clones.h"

namespace dosemap {
namespace {

// blosc 1.x's chunk format (c-blosc 1.21, blosc.c and README_HEADER.rst): a 16-byte header
// (format version, compressor's format version, flags, type size, then little-endian int32s:
// uncompressed bytes, block size, chunk bytes), then one int32 start per block, then for each
// block its split streams, each an int32 size and its bytes (stored raw when the size equals
// the stream's raw size).
constexpr uint8_t kBloscFormat = 2;     // BLOSC_VERSION_FORMAT
constexpr uint8_t kLz4Format = 1;       // BLOSC_LZ4_VERSION_FORMAT, and BLOSC_LZ4_FORMAT
constexpr uint8_t kShuffled = 0x1;      // BLOSC_DOSHUFFLE
constexpr uint8_t kCopied = 0x2;        // BLOSC_MEMCPYED: the header, then the values as they are
constexpr uint8_t kNotSplit = 0x10;     // the block is one stream, not one per byte plane
constexpr int kHeaderBytes = 16;        // BLOSC_MAX_OVERHEAD
constexpr int kMinBufferBytes = 128;    // blosc's MIN_BUFFERSIZE: smaller buffers are copied
constexpr int kTypeBytes = 4;           // OpenVDB asks blosc for sizeof(float)
constexpr int kAcceleration = 1;        // blosc's LZ4 acceleration at clevel 9: 10 - 9
constexpr char kNoInactiveValues = 0;   // OpenVDB's NO_MASK_OR_INACTIVE_VALS
constexpr int kPlanesPerRestart = 4096; // each reset moves LZ4's positions on by 64 kB and a plane

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the byte planes and sizes are read as little-endian");

void put_le32(char* at, int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int b = 0; b < 4; ++b) at[b] = static_cast<char>((u >> (8 * b)) & 0xff);
}

// blosc's byte shuffle: byte b of value i to plane b (planes[b * count + i]), vectorized.
// (The values are read as 4-byte words whatever their type: may_alias.)
typedef uint32_t __attribute__((may_alias)) ValueWord;
DOSEMAP_SIMD_CLONES void shuffle_bytes(const ValueWord* __restrict values, uint32_t count, uint8_t* __restrict planes) {
  for (int b = 0; b < kTypeBytes; ++b) {
    uint8_t* __restrict plane = planes + b * count;
    for (uint32_t i = 0; i < count; ++i) plane[i] = static_cast<uint8_t>(values[i] >> (8 * b));
  }
}

}  // namespace

LeafValueEncoder::LeafValueEncoder() : lz4_(LZ4_createStream()) {
  if (!lz4_) throw std::bad_alloc();
  restart();
}

// LZ4 reads an empty slot of a zeroed hash table as position 0 of the block, a candidate
// match; after LZ4_resetStream_fast every slot holds an earlier block's position, which it
// always rejects. So that a plane's bytes depend on the plane alone (not on which planes this
// thread compressed before, which the scheduler decides), no plane is compressed on a zeroed
// table: the state compresses a few bytes first, and is zeroed again well before LZ4 would
// do it itself (its positions pass 1 GB after some 16 000 planes).
void LeafValueEncoder::restart() {
  LZ4_initStream(lz4_, sizeof(LZ4_stream_t));
  static const char kFirst[16] = {};
  char out[64];
  LZ4_compress_fast_continue(lz4_, kFirst, out, sizeof kFirst, sizeof out, kAcceleration);
  planes_since_restart_ = 0;
}

LeafValueEncoder::~LeafValueEncoder() { LZ4_freeStream(lz4_); }

void LeafValueEncoder::append(std::string& out, const void* active_values, uint32_t count) {
  DOSEMAP_BUG_CHECK(count >= 1 && count <= sizeof shuffled_ / kTypeBytes, "a leaf holds 1 to 512 active values");
  const char* values = static_cast<const char*>(active_values);
  const size_t n_bytes = static_cast<size_t>(count) * kTypeBytes;
  // Compared directly, newest first: leaves that differ mostly do so in their first bytes,
  // so a miss costs less than hashing the values would (Debian's xxhash is not vectorized).
  for (size_t age = 0; age < recent_.size(); ++age) {
    const Recent& r = recent_[(newest_ + recent_.size() - age) % recent_.size()];
    if (r.count == count && std::memcmp(r.values.data(), values, n_bytes) == 0) {
      out += r.bytes;
      return;
    }
  }
  const size_t from = out.size();
  encode(out, values, count);
  newest_ = (newest_ + 1) % recent_.size();
  Recent& r = recent_[newest_];
  r.count = count;
  r.values.assign(values, n_bytes);
  r.bytes.assign(out, from, std::string::npos);
}

void LeafValueEncoder::encode(std::string& out, const char* values, uint32_t count) {
  const int32_t n_bytes = static_cast<int32_t>(count) * kTypeBytes;
  // blosc_compress_ctx with OpenVDB's arguments: the block is the whole buffer, split into
  // byte planes when a plane holds at least kMinBufferBytes (split_block, forward-compatible
  // mode); the destination holds the buffer and a header, no more.
  const bool split = n_bytes / kTypeBytes >= kMinBufferBytes;
  const int32_t capacity = n_bytes + kHeaderBytes;
  uint8_t flags = kShuffled | (split ? 0 : kNotSplit) | (kLz4Format << 5);

  out.push_back(kNoInactiveValues);
  const size_t size_at = out.size();
  out.append(8, '\0');  // the chunk's size (int64), once known
  const size_t chunk_at = out.size();
  char header[kHeaderBytes] = {static_cast<char>(kBloscFormat), static_cast<char>(kLz4Format), 0,
                               static_cast<char>(kTypeBytes)};
  put_le32(header + 4, n_bytes);
  put_le32(header + 8, n_bytes);  // the block size
  out.append(header, kHeaderBytes);

  bool compressed = false;
  if (n_bytes >= kMinBufferBytes) {
    int32_t chunk_bytes = kHeaderBytes + 4;  // and the one block's start
    char start[4];
    put_le32(start, chunk_bytes);
    out.append(start, 4);
    shuffle_bytes(reinterpret_cast<const ValueWord*>(values), count, reinterpret_cast<uint8_t*>(shuffled_));
    const int planes = split ? kTypeBytes : 1;
    const int32_t plane_bytes = n_bytes / planes;
    compressed = true;
    for (int p = 0; p < planes && compressed; ++p) {
      chunk_bytes += 4;
      const int32_t room = std::min(plane_bytes, capacity - chunk_bytes);
      int32_t stream_bytes = 0;
      if (room > 0) {
        // A new chain of blocks: this plane refers to none of the bytes compressed before.
        if (++planes_since_restart_ > kPlanesPerRestart) restart();
        LZ4_resetStream_fast(lz4_);
        stream_bytes = LZ4_compress_fast_continue(lz4_, shuffled_ + p * plane_bytes, compressed_, plane_bytes, room,
                                                  kAcceleration);
      }
      const char* stream = compressed_;
      if (stream_bytes == 0 || stream_bytes == plane_bytes) {  // stored as it is
        if (chunk_bytes + plane_bytes > capacity) {
          compressed = false;  // blosc then copies the whole buffer instead
          break;
        }
        stream = shuffled_ + p * plane_bytes;
        stream_bytes = plane_bytes;
      }
      char size[4];
      put_le32(size, stream_bytes);
      out.append(size, 4);
      out.append(stream, static_cast<size_t>(stream_bytes));
      chunk_bytes += stream_bytes;
    }
  }
  if (!compressed) {
    flags |= kCopied;
    out.resize(chunk_at + kHeaderBytes);
    out.append(values, static_cast<size_t>(n_bytes));
  }

  const int32_t chunk_bytes = static_cast<int32_t>(out.size() - chunk_at);
  out[chunk_at + 2] = static_cast<char>(flags);
  put_le32(&out[chunk_at + 12], chunk_bytes);
  const int64_t size = chunk_bytes;
  std::memcpy(&out[size_at], &size, sizeof size);  // OpenVDB writes its Int64 as it is in memory
}

}  // namespace dosemap
