// VTK XML ImageData as written for ParaView: header (extent, origin and spacing in mm,
// arrays and offsets) and LZ4-compressed appended blocks (VTK's layout), read back byte for
// byte; arrays of many blocks, their header and offsets.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <cmath>
#include <cstring>

#include "host/outputs/vti_writer.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

TEST(VtiWriter, WritesCellDataAsCompressedAppendedBlocksInMillimetres) {
  GridGeometry g;
  g.dims = {3, 2, 2};
  g.voxel_um = {10, 20, 5};
  g.origin_um = {-15, -20, 0};
  std::vector<float> dose(12);
  for (int v = 0; v < 12; ++v) dose[v] = v * 1.5f;
  std::vector<VtiArray> arrays;
  arrays.push_back({"dose", VtiArray::kFloat32, [&](int64_t b, int64_t e, void* out) {
                      std::memcpy(out, dose.data() + b, (e - b) * sizeof(float));
                    }});
  arrays.push_back({"material", VtiArray::kInt32, [](int64_t b, int64_t e, void* out) {
                      for (int64_t v = b; v < e; ++v) static_cast<int32_t*>(out)[v - b] = v % 2 ? -1 : 7;
                    }});
  test::ScratchDir dir;
  const std::string path = (dir / "t.vti").string();
  {
    std::ofstream out(path, std::ios::binary);
    write_vti(out, g, arrays, "dose");
  }
  const std::string f = test::read_file(path);
  EXPECT_NE(f.find("header_type=\"UInt64\" compressor=\"vtkLZ4DataCompressor\""), std::string::npos) << f.substr(0, 400);
  EXPECT_NE(f.find("WholeExtent=\"0 3 0 2 0 2\""), std::string::npos) << f.substr(0, 400);
  EXPECT_NE(f.find("Origin=\"-0.015 -0.02 0\""), std::string::npos);
  EXPECT_NE(f.find("Spacing=\"0.01 0.02 0.005\""), std::string::npos);
  EXPECT_NE(f.find("Name=\"dose\" format=\"appended\" offset=\"0\""), std::string::npos);
  const std::string d = test::vti_array(f, "dose");
  ASSERT_EQ(d.size(), 48u);
  for (int v = 0; v < 12; ++v) {
    float x;
    std::memcpy(&x, d.data() + 4 * v, 4);
    EXPECT_EQ(x, dose[v]);  // x fastest, as VTK orders cells
  }
  const std::string m = test::vti_array(f, "material");
  ASSERT_EQ(m.size(), 48u);
  for (int v = 0; v < 12; ++v) {
    int32_t x;
    std::memcpy(&x, m.data() + 4 * v, 4);
    EXPECT_EQ(x, v % 2 ? -1 : 7);
  }
  const std::string end = "\n  </AppendedData>\n</VTKFile>\n";
  EXPECT_EQ(f.rfind(end), f.size() - end.size());
}

// An array of more rows than a block holds: blocks of whole rows, the last one shorter, each
// block's compressed size in the header, the next array's offset just past the last block.
TEST(VtiWriter, ArraysOfManyBlocksHaveVtksHeaderAndReadBackWhole) {
  GridGeometry g;
  g.dims = {1000, 300, 2};  // 4 kB rows: a 1 MB block holds 256 of the 600
  g.voxel_um = {1, 1, 1};
  auto value = [](int64_t v) { return static_cast<float>((v * 2654435761u) % 1000003u) * 0.25f; };  // poorly compressible
  std::vector<VtiArray> arrays;
  arrays.push_back({"noise", VtiArray::kFloat32, [&](int64_t b, int64_t e, void* out) {
                      for (int64_t v = b; v < e; ++v) static_cast<float*>(out)[v - b] = value(v);
                    }});
  arrays.push_back({"flag", VtiArray::kUInt8, [](int64_t b, int64_t e, void* out) {
                      for (int64_t v = b; v < e; ++v) static_cast<uint8_t*>(out)[v - b] = v % 3 == 0;
                    }});
  std::ostringstream s;
  write_vti(s, g, arrays, "noise");
  const std::string f = s.str();
  const size_t data = f.find('_', f.find("<AppendedData encoding=\"raw\">")) + 1;
  uint64_t header[3];
  std::memcpy(header, f.data() + data, sizeof header);
  const uint64_t row_bytes = 4000, rows_per_block = (uint64_t(1) << 20) / row_bytes;
  EXPECT_EQ(header[0], (600 + rows_per_block - 1) / rows_per_block);  // blocks
  EXPECT_EQ(header[1], rows_per_block * row_bytes);                   // a block's bytes
  EXPECT_EQ(header[2], (600 % rows_per_block) * row_bytes);           // the last, shorter one
  uint64_t compressed = 0;
  for (uint64_t b = 0; b < header[0]; ++b) {
    uint64_t bytes = 0;
    std::memcpy(&bytes, f.data() + data + 24 + 8 * b, 8);
    EXPECT_GT(bytes, 0u);
    compressed += bytes;
  }
  const uint64_t flag_offset = 24 + 8 * header[0] + compressed;
  EXPECT_NE(f.find("Name=\"flag\" format=\"appended\" offset=\"" + std::to_string(flag_offset) + "\""), std::string::npos);
  const std::string noise = test::vti_array(f, "noise");
  ASSERT_EQ(noise.size(), 4u * 600000);
  for (int64_t v = 0; v < 600000; ++v) {
    float x;
    std::memcpy(&x, noise.data() + 4 * v, 4);
    ASSERT_EQ(x, value(v)) << v;
  }
  const std::string flag = test::vti_array(f, "flag");
  ASSERT_EQ(flag.size(), 600000u);
  for (int64_t v = 0; v < 600000; ++v) ASSERT_EQ(flag[v], v % 3 == 0) << v;
}

TEST(VtiWriter, PvdListsDatasetsWithTheirTimes) {
  test::ScratchDir dir;
  {
    std::ofstream out(dir / "d.pvd");
    write_pvd(out, {{3600, "frames/dose_0001.vti"}, {7200.5, "frames/dose_0002.vti"}});
  }
  const std::string f = test::read_file(dir / "d.pvd");
  EXPECT_NE(f.find("<DataSet timestep=\"3600\" part=\"0\" file=\"frames/dose_0001.vti\"/>"), std::string::npos) << f;
  EXPECT_NE(f.find("timestep=\"7200.5\""), std::string::npos);
}

}  // namespace
}  // namespace dosemap
