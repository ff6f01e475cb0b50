// A leaf's values encoded by LeafValueEncoder (host/outputs/leaf_value_encoder.cpp) read back
// through OpenVDB's own io::readCompressedValues (and so blosc's decompression) as the values
// written, and follow the chunk layout OpenVDB's io::writeCompressedValues gets from blosc:
// the same header, and the same bytes wherever blosc stores the values uncompressed (small
// leaves, values that do not compress). Only LZ4's matches may differ, its state being reused.
#include <gtest/gtest.h>
#include <openvdb/io/Compression.h>
#include <openvdb/util/NodeMasks.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "host/outputs/leaf_value_encoder.h"

namespace dosemap {
namespace {

using Mask = openvdb::util::NodeMask<3>;
constexpr openvdb::Index kLeafSize = Mask::SIZE;  // 512
constexpr uint32_t kFlags = openvdb::io::COMPRESS_BLOSC | openvdb::io::COMPRESS_ACTIVE_MASK;

struct Leaf {
  std::vector<float> values = std::vector<float>(kLeafSize);  // inactive ones are the background
  Mask mask;
  float background = 0.0f;

  std::vector<float> active() const {
    std::vector<float> out;
    for (auto it = mask.beginOn(); it; ++it) out.push_back(values[it.pos()]);
    return out;
  }
};

// What OpenVDB writes for the leaf's values.
std::string openvdb_bytes(const Leaf& leaf) {
  std::ostringstream os;
  openvdb::io::setDataCompression(os, kFlags);
  openvdb::io::setGridBackgroundValuePtr(os, &leaf.background);
  std::vector<float> values = leaf.values;
  openvdb::io::writeCompressedValues(os, values.data(), kLeafSize, leaf.mask, Mask(), /*toHalf=*/false);
  return os.str();
}

// The leaf's values as OpenVDB reads `bytes` back (inactive voxels filled with the background).
std::vector<float> read_back(const std::string& bytes, const Leaf& leaf) {
  std::istringstream is(bytes);
  openvdb::io::setCurrentVersion(is);  // a file of this OpenVDB: leaves hold active values only
  openvdb::io::setDataCompression(is, kFlags);
  openvdb::io::setGridBackgroundValuePtr(is, &leaf.background);
  std::vector<float> values(kLeafSize, std::nanf(""));
  openvdb::io::readCompressedValues(is, values.data(), kLeafSize, leaf.mask, /*fromHalf=*/false);
  EXPECT_EQ(is.tellg(), static_cast<std::streamoff>(bytes.size())) << "bytes left unread";
  return values;
}

// The metadata byte, the chunk size and blosc's 16-byte header (version, compressor version,
// flags, type size, uncompressed bytes, block size, chunk bytes).
std::string chunk_header(const std::string& bytes) { return bytes.substr(0, 1 + 8 + 16); }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Active voxels: `count` of them chosen at random (or all); values by kind.
enum class Values { kZeros, kSmooth, kRandomBits, kFewLevels };

Leaf make_leaf(std::mt19937& rng, int count, Values kind, float background) {
  Leaf leaf;
  leaf.background = background;
  std::vector<openvdb::Index> order(kLeafSize);
  for (openvdb::Index n = 0; n < kLeafSize; ++n) order[n] = n;
  std::shuffle(order.begin(), order.end(), rng);
  for (int c = 0; c < count; ++c) leaf.mask.setOn(order[static_cast<size_t>(c)]);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::uniform_int_distribution<uint32_t> bits(0, 0x7f7fffffu);  // finite floats
  const float scale = 1e3f + 1e7f * unit(rng);
  for (openvdb::Index n = 0; n < kLeafSize; ++n) {
    float v = background;
    if (leaf.mask.isOn(n)) {
      const int x = static_cast<int>(n >> 6), z = static_cast<int>(n & 7);
      switch (kind) {
        case Values::kZeros: v = 0.0f; break;
        case Values::kSmooth:  // a depth profile, slowly varying across
          v = scale * std::exp(-0.3f * static_cast<float>(z)) * (1.0f + 0.01f * static_cast<float>(x));
          break;
        case Values::kRandomBits: {
          const uint32_t b = bits(rng);
          std::memcpy(&v, &b, sizeof v);
          break;
        }
        case Values::kFewLevels: v = static_cast<float>(rng() % 3); break;
      }
    }
    leaf.values[n] = v;
  }
  return leaf;
}

TEST(LeafValueEncoder, EveryLeafReadsBackThroughOpenVdbAsItsValues) {
  std::mt19937 rng(20261128);
  LeafValueEncoder encoder;  // one state for every leaf, as a writer's thread keeps it
  // Around blosc's edges: fewer than 32 values (128 bytes) are copied; from 128 values the
  // block is split into byte planes; 512 is a full leaf.
  const int counts[] = {1, 2, 31, 32, 33, 100, 127, 128, 129, 300, 511, 512};
  const Values kinds[] = {Values::kZeros, Values::kSmooth, Values::kRandomBits, Values::kFewLevels};
  int leaves = 0, incompressible = 0, marginal = 0;
  for (int round = 0; round < 20; ++round)
    for (int count : counts)
      for (Values kind : kinds) {
        const Leaf leaf = make_leaf(rng, count, kind, round % 2 ? -1.0f : 0.0f);
        const std::vector<float> active = leaf.active();
        std::string bytes = "prefix";  // appended to what is there
        encoder.append(bytes, active.data(), static_cast<uint32_t>(active.size()));
        ASSERT_EQ(bytes.substr(0, 6), "prefix");
        bytes.erase(0, 6);
        const std::string theirs = openvdb_bytes(leaf);
        SCOPED_TRACE("active " + std::to_string(count) + ", kind " + std::to_string(static_cast<int>(kind)));
        ASSERT_TRUE(same_bits(read_back(bytes, leaf), leaf.values));
        ASSERT_TRUE(same_bits(read_back(theirs, leaf), leaf.values));  // the reference itself
        // blosc's header agrees but for what LZ4's matches decide: the chunk's size, and
        // whether a chunk that barely compresses is stored compressed or copied.
        constexpr size_t kFlagsAt = 1 + 8 + 2;
        const bool ours_copied = static_cast<uint8_t>(bytes[kFlagsAt]) & 0x2;
        const bool their_copied = static_cast<uint8_t>(theirs[kFlagsAt]) & 0x2;
        std::string ours_header = chunk_header(bytes), their_header = chunk_header(theirs);
        for (std::string* h : {&ours_header, &their_header}) {
          h->replace(1, 8, 8, '\0');           // the chunk size OpenVDB writes before it
          (*h)[kFlagsAt] = static_cast<char>((*h)[kFlagsAt] & ~0x2);
          h->replace(1 + 8 + 12, 4, 4, '\0');  // blosc's own count of the chunk's bytes
        }
        ASSERT_EQ(ours_header, their_header);
        // Too small to compress (under 128 bytes) or values that do not compress at all:
        // copied, the same bytes as OpenVDB's.
        if (count < 32 || kind == Values::kRandomBits) {
          ASSERT_TRUE(ours_copied && their_copied);
          if (count >= 32) ++incompressible;
        }
        if (ours_copied && their_copied) {
          ASSERT_EQ(bytes, theirs);
        }
        if (ours_copied != their_copied) ++marginal;
        ++leaves;
      }
  EXPECT_EQ(leaves, 20 * 12 * 4);
  EXPECT_GT(incompressible, 0) << "random bits are copied whole";
  EXPECT_LT(marginal, leaves / 20) << "chunks copied by one encoder and compressed by the other";
}

TEST(LeafValueEncoder, ALeafsBytesDependOnItsValuesAlone) {
  // A writer's threads encode whichever rows the scheduler hands them: the same values must
  // give the same bytes whatever a thread's encoder compressed before, or two runs of one
  // scene would write different files. Leaves of every kind, each encoded first by a fresh
  // encoder and then again by one that has encoded thousands of leaves (past its restarts).
  std::mt19937 rng(11);
  std::vector<Leaf> probes;
  for (Values kind : {Values::kZeros, Values::kSmooth, Values::kFewLevels})
    for (int count : {40, 200, 512}) probes.push_back(make_leaf(rng, count, kind, 0.0f));
  std::vector<std::string> fresh;
  for (const Leaf& leaf : probes) {
    LeafValueEncoder encoder;
    const std::vector<float> active = leaf.active();
    fresh.emplace_back();
    encoder.append(fresh.back(), active.data(), static_cast<uint32_t>(active.size()));
  }
  LeafValueEncoder used;
  std::string scratch;
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < 1500; ++n) {  // 6 000 planes: past a restart each round
      const Leaf leaf = make_leaf(rng, 512, n % 2 ? Values::kSmooth : Values::kZeros, 0.0f);
      const std::vector<float> active = leaf.active();
      scratch.clear();
      used.append(scratch, active.data(), 512);
    }
    for (size_t p = 0; p < probes.size(); ++p) {
      const std::vector<float> active = probes[p].active();
      std::string again;
      used.append(again, active.data(), static_cast<uint32_t>(active.size()));
      ASSERT_EQ(again, fresh[p]) << "probe " << p << ", round " << round;
    }
  }
}

TEST(LeafValueEncoder, ALeafMetAgainTakesItsOwnBytesAndOneThatDiffersByABitItsOwn) {
  // An encoder keeps the leaves it encoded lately by their values: a leaf met again must get
  // exactly its own bytes, and leaves one bit or one value away their own, never its.
  std::mt19937 rng(5);
  const Leaf leaf = make_leaf(rng, 512, Values::kSmooth, 0.0f);
  std::vector<std::vector<float>> variants{leaf.active()};
  variants.push_back(variants[0]);
  uint32_t bits;
  std::memcpy(&bits, &variants[1][300], 4);
  bits ^= 1;  // the last bit of one value
  std::memcpy(&variants[1][300], &bits, 4);
  variants.push_back(std::vector<float>(variants[0].begin(), variants[0].end() - 1));  // one value fewer
  std::vector<std::string> fresh;
  for (const auto& v : variants) {
    LeafValueEncoder encoder;
    fresh.emplace_back();
    encoder.append(fresh.back(), v.data(), static_cast<uint32_t>(v.size()));
  }
  EXPECT_NE(fresh[0], fresh[1]);
  EXPECT_NE(fresh[0], fresh[2]);
  LeafValueEncoder used;
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < variants.size(); ++i) {
      std::string out = "prefix";
      used.append(out, variants[i].data(), static_cast<uint32_t>(variants[i].size()));
      ASSERT_EQ(out, "prefix" + fresh[i]) << "variant " << i << ", round " << round;
    }
}

TEST(LeafValueEncoder, CompressesAsWellAsBlosc) {
  // The encoder is a faster way to the same format, not a weaker compressor: on smooth dose
  // values (a depth profile in every leaf) its chunks are no larger than blosc's, give or
  // take LZ4's choice of matches.
  std::mt19937 rng(7);
  LeafValueEncoder encoder;
  size_t ours = 0, theirs = 0;
  for (int round = 0; round < 50; ++round) {
    const Leaf leaf = make_leaf(rng, 512, Values::kSmooth, 0.0f);
    const std::vector<float> active = leaf.active();
    std::string bytes;
    encoder.append(bytes, active.data(), 512);
    ours += bytes.size();
    theirs += openvdb_bytes(leaf).size();
  }
  EXPECT_LT(ours, 2048u * 50) << "smooth values compress";
  EXPECT_LE(static_cast<double>(ours), 1.02 * static_cast<double>(theirs));
}

}  // namespace
}  // namespace dosemap
