#pragma once
// A VDB leaf's values encoded as OpenVDB writes them into a .vdb file compressed with blosc
// (io::writeCompressedValues on a stream flagged COMPRESS_BLOSC | COMPRESS_ACTIVE_MASK), but
// with one LZ4 state kept for every leaf a thread encodes.
//
// Why: OpenVDB hands each leaf to blosc_compress_ctx, which calls LZ4_compress_fast once per
// byte plane (four per leaf of floats), and each of those calls clears a fresh 16 kB LZ4 state
// to compress 512 bytes: most of a dose.vdb's compression time (callgrind). The bytes written
// here follow the same layout, read by the same io::readCompressedValues and blosc
// decompression (tested); only LZ4's choice of matches may differ from blosc's, as its hash
// table is reused. A leaf's bytes depend on its values alone (tested): files are reproducible.
//
// Leaves encoded lately are kept by their values: a top-hat beam doses every column under it
// alike and a stack of layers repeats along the layers, so many leaves of a run are alike bit
// for bit (on the demo scene, four in five of a frame's), and one met again takes its bytes
// from there, uncompressed again.
#include <array>
#include <cstdint>
#include <string>

union LZ4_stream_u;

namespace dosemap {

class LeafValueEncoder {
 public:
  LeafValueEncoder();
  ~LeafValueEncoder();
  LeafValueEncoder(const LeafValueEncoder&) = delete;
  LeafValueEncoder& operator=(const LeafValueEncoder&) = delete;

  // Appends what io::writeCompressedValues writes for a leaf of 4-byte values whose inactive
  // values are all the grid's background (and the background is not NaN): the per-leaf
  // metadata byte (no inactive values to store), the size of the blosc chunk (int64) and the
  // chunk of the `count` active values (1..512, in the leaf's order): blosc format 2, LZ4 at
  // blosc's level 9, byte shuffle, one block of the whole buffer, split into its byte planes
  // when they are 128 values or more, as blosc 1.21 makes it for OpenVDB's bloscToStream.
  void append(std::string& out, const void* active_values, uint32_t count);

 private:
  void encode(std::string& out, const char* values, uint32_t count);
  void restart();

  // The leaves encoded last: their values and what append wrote for them. Alike leaves come
  // in runs (neighbours along a row of blocks; a frame's dose and density leaves alternate).
  struct Recent {
    uint32_t count = 0;  // 0: empty
    std::string values, bytes;
  };
  std::array<Recent, 8> recent_;
  size_t newest_ = 0;

  LZ4_stream_u* lz4_;                 // reset (cheaply) before each byte plane
  int planes_since_restart_ = 0;
  alignas(64) char shuffled_[2048];   // the values' bytes, plane by plane
  alignas(64) char compressed_[2048]; // one plane, LZ4-compressed
};

}  // namespace dosemap
