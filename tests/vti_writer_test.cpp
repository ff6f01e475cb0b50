// VTK XML ImageData as written for ParaView: header (extent, origin and spacing in mm,
// arrays and offsets) and raw appended blocks, read back byte for byte.
#include <gtest/gtest.h>

#include <fstream>

#include <cmath>
#include <cstring>

#include "host/outputs/vti_writer.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

TEST(VtiWriter, WritesCellDataAsRawAppendedBlocksInMillimetres) {
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
  EXPECT_NE(f.find("WholeExtent=\"0 3 0 2 0 2\""), std::string::npos) << f.substr(0, 400);
  EXPECT_NE(f.find("Origin=\"-0.015 -0.02 0\""), std::string::npos);
  EXPECT_NE(f.find("Spacing=\"0.01 0.02 0.005\""), std::string::npos);
  EXPECT_NE(f.find("Name=\"dose\" format=\"appended\" offset=\"0\""), std::string::npos);
  EXPECT_NE(f.find("Name=\"material\" format=\"appended\" offset=\"56\""), std::string::npos);  // 8 + 12 * 4
  const size_t start = f.find("<AppendedData encoding=\"raw\">");
  ASSERT_NE(start, std::string::npos);
  const size_t data = f.find('_', start) + 1;
  uint64_t bytes = 0;
  std::memcpy(&bytes, f.data() + data, 8);
  EXPECT_EQ(bytes, 48u);
  for (int v = 0; v < 12; ++v) {
    float x;
    std::memcpy(&x, f.data() + data + 8 + 4 * v, 4);
    EXPECT_EQ(x, dose[v]);  // x fastest, as VTK orders cells
  }
  std::memcpy(&bytes, f.data() + data + 56, 8);
  EXPECT_EQ(bytes, 48u);
  int32_t m;
  std::memcpy(&m, f.data() + data + 56 + 8 + 4, 4);
  EXPECT_EQ(m, -1);
  EXPECT_NE(f.find("</AppendedData>\n</VTKFile>", data + 56 + 8 + 48), std::string::npos);
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
