#include "host/outputs/points_h5.h"

#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "host/common/text.h"

namespace dosemap {

namespace {

// Every HDF5 call is checked; a failure here is a bug (the data are in memory).
hid_t checked(hid_t id, const char* what) {
  if (id < 0) throw std::runtime_error(std::string("HDF5: ") + what + " failed");
  return id;
}
void checked(herr_t status, const char* what, int) {
  if (status < 0) throw std::runtime_error(std::string("HDF5: ") + what + " failed");
}

void string_attribute(hid_t object, const char* name, const std::string& value) {
  const hid_t type = checked(H5Tcopy(H5T_C_S1), "H5Tcopy");
  checked(H5Tset_size(type, value.empty() ? 1 : value.size()), "H5Tset_size", 0);
  const hid_t space = checked(H5Screate(H5S_SCALAR), "H5Screate");
  const hid_t attr = checked(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2");
  checked(H5Awrite(attr, type, value.empty() ? "" : value.c_str()), "H5Awrite", 0);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

template <typename T>
void column(hid_t file, const std::string& name, const std::vector<T>& values, const char* units,
            const std::string& thresholds = {}) {
  const hsize_t n = values.size();
  const hid_t space = checked(H5Screate_simple(1, &n, nullptr), "H5Screate_simple");
  const hid_t type = std::is_same<T, double>::value ? H5T_IEEE_F64LE : H5T_STD_I32LE;
  const hid_t mem = std::is_same<T, double>::value ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
  const hid_t set = checked(H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Dcreate2");
  if (n > 0) checked(H5Dwrite(set, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "H5Dwrite", 0);
  string_attribute(set, "units", units);
  if (!thresholds.empty()) string_attribute(set, "thresholds", thresholds);
  H5Dclose(set);
  H5Sclose(space);
}

}  // namespace

void write_points_h5(const PointTable& t, std::ostream& out) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failures are reported by the checks above
  const hid_t fapl = checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
  checked(H5Pset_fapl_core(fapl, 1 << 20, 0), "H5Pset_fapl_core", 0);  // in memory only
  const hid_t file = checked(H5Fcreate("points.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate");
  string_attribute(file, "about", "dosemap per-visit table: one row per scan point and visit (README, points.csv)");
  column(file, "step", t.step, "");
  column(file, "point", t.point, "");
  column(file, "repetition", t.repetition, "");
  column(file, "x_um", t.x_um, "um");
  column(file, "y_um", t.y_um, "um");
  column(file, "x_end_um", t.x_end_um, "um");
  column(file, "y_end_um", t.y_end_um, "um");
  column(file, "angle_deg", t.angle_deg, "deg");
  column(file, "t_start_s", t.t_start_s, "s");
  column(file, "beam_on_s", t.beam_on_s, "s");
  column(file, "beam_columns", t.beam_columns, "");
  for (size_t m = 0; m < t.materials.size(); ++m) {
    const std::string& name = t.materials[m];
    column(file, name + "_dose_max_Gy", t.dose_max_Gy[m], "Gy");
    column(file, name + "_dose_mean_Gy", t.dose_mean_Gy[m], "Gy");
    column(file, name + "_rate_peak_Gy_s", t.rate_peak_Gy_s[m], "Gy/s");
    // Its own scale (the material's, or the component material's): "label=dose_Gy,...".
    std::string scale;
    for (const Threshold& th : t.thresholds[m]) scale += (scale.empty() ? "" : ",") + th.label + "=" + fmt_g(th.dose_Gy, 9);
    column(file, name + "_threshold_passed", t.thresholds_passed[m], "thresholds passed (of the attribute thresholds)",
           scale.empty() ? std::string("none") : scale);
  }
  checked(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush", 0);
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size <= 0) throw std::runtime_error("HDF5: H5Fget_file_image failed");
  std::vector<char> image(static_cast<size_t>(size));
  if (H5Fget_file_image(file, image.data(), image.size()) != size) throw std::runtime_error("HDF5: H5Fget_file_image failed");
  H5Fclose(file);
  H5Pclose(fapl);
  out.write(image.data(), static_cast<std::streamsize>(image.size()));
}

}  // namespace dosemap
