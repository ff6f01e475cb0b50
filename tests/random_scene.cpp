#include "tests/random_scene.h"

#include <sstream>

#include "host/scene/scene_reader.h"

namespace dosemap::test {

std::string random_scene(std::mt19937& rng, const test::ScratchDir& dir) {
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::ostringstream s;
  s << "format = 1\n";
  s << "[physics]\ndose_model = \"" << (const char*[]){"mu_en", "photo", "absorbed"}[pick(3)] << "\"\n";
  s << "[materials.cu]\nformula = \"Cu\"\n[materials.al]\nformula = \"Al\"\n"
       "[materials.c]\nformula = \"C\"\ndensity_g_cm3 = 2.2\n"
       "[materials.ec]\nformula = \"C3H4O3\"\ndensity_g_cm3 = 1.32\n"
    << (pick(2) ? "thresholds_Gy = { radiolysis = 3e3, b = 5e5 }\n" : "")  // its own scale: labels of both
    << "[materials.nmc]\nformula = \"LiNi0.8Mn0.1Co0.1O2\"\ndensity_g_cm3 = 4.8\n"
       "[materials.cathode]\ncomponents = [ { material = \"nmc\", volume_fraction = 0.7 }, "
       "{ material = \"ec\", volume_fraction = 0.3 } ]\n"
       "[materials.anode]\ncomponents = [ { material = \"c\", volume_fraction = 0.6 }, "
       "{ material = \"ec\", volume_fraction = 0.3 }, { material = \"void\", volume_fraction = 0.1 } ]\n";
  const double vx = (const double[]){2.0, 4.0, 5.0}[pick(3)], vz = (const double[]){0.5, 1.0, 2.0}[pick(3)];
  const int nx = 20 + pick(30), ny = 10 + pick(30);
  s << "[sample]\nvoxel_um = [" << vx << ", " << vx << ", " << vz << "]\nlateral_um = [" << nx * vx << ", " << ny * vx << "]\n";
  const char* mats[] = {"cu", "al", "cathode", "anode", "ec", "void"};
  const int layers = 1 + pick(4);
  for (int l = 0; l < layers; ++l)
    s << "[[sample.layers]]\nmaterial = \"" << mats[l == 0 ? pick(5) : pick(6)] << "\"\nthickness_um = " << vz * (1 + pick(12)) << "\n";
  s << "[beam]\n";
  if (pick(2)) {
    s << "energy_keV = " << uniform(15, 60) << "\n";
  } else {
    s << "spectrum = [[" << uniform(15, 25) << ", 1.0], [" << uniform(26, 40) << ", " << uniform(0.2, 2) << "], ["
      << uniform(41, 60) << ", 0.5]]\n";
  }
  s << "flux_ph_s = " << uniform(1e9, 1e12) << "\n";
  const int profile = pick(3);
  if (profile == 0) s << "profile = \"gaussian\"\nfwhm_um = [" << uniform(2, 20) << ", " << uniform(2, 20) << "]\n";
  if (profile == 1) s << "profile = \"tophat\"\nsize_um = [" << uniform(3, 30) << ", " << uniform(3, 30) << "]\n";
  if (profile == 2) {
    std::ostringstream csv;
    for (int y = 0; y < 4; ++y) {
      for (int x = 0; x < 5; ++x) csv << (x ? ", " : "") << uniform(0, 1);
      csv << "\n";
    }
    write_file(dir / "beam.csv", csv.str());
    s << "profile = \"image\"\nimage = \"beam.csv\"\npixel_um = [" << uniform(0.5, 3) << ", " << uniform(0.5, 3) << "]\n";
  }
  s << "[scan]\nrepeat = " << 1 + pick(3) << "\n";
  const double hx = nx * vx / 2, hy = ny * vx / 2;
  for (int k = 0; k < 1 + pick(4); ++k) {
    switch (pick(4)) {
      case 0:
        s << "[[scan.steps]]\nkind = \"point\"\nat_um = [" << uniform(-hx, hx) << ", " << uniform(-hy, hy)
          << "]\nexposure_s = " << uniform(0.1, 5) << "\n";
        break;
      case 1:
        s << "[[scan.steps]]\nkind = \"raster\"\nfrom_um = [" << uniform(-hx, 0) << ", " << uniform(-hy, 0) << "]\nto_um = ["
          << uniform(0, hx) << ", " << uniform(0, hy) << "]\nstep_um = [" << uniform(5, 20) << ", " << uniform(5, 20)
          << "]\ndwell_s = " << uniform(0.1, 2) << "\nmove_s = " << uniform(0, 1) << "\norder = \""
          << (pick(2) ? "snake" : "lines") << "\"\n";
        break;
      case 2:
        s << "[[scan.steps]]\nkind = \"fly\"\npath_um = [[" << uniform(-hx, hx) << ", " << uniform(-hy, hy) << "], ["
          << uniform(-hx, hx) << ", " << uniform(-hy, hy) << "], [" << uniform(-hx, hx) << ", " << uniform(-hy, hy)
          << "]]\nspeed_um_s = " << uniform(5, 50) << "\n";
        break;
      default:
        s << "[[scan.steps]]\nkind = \"wait\"\nduration_s = " << uniform(1, 10) << "\n";
    }
  }
  s << "[[scan.steps]]\nkind = \"point\"\nat_um = [0.0, 0.0]\nexposure_s = 1.0\n";  // the beam is on at least once
  s << "[output]\nthresholds_Gy = { a = 1e2, b = 1e4, c = 1e6, d = 1e8 }\n";
  if (pick(2)) s << "frames_s = [0.5, 1.0]\n";  // the scan lasts at least 1 s
  return s.str();
}

Scene load_random_scene(int seed, const ScratchDir& dir, std::string* text) {
  std::mt19937 rng(seed);
  const std::string t = random_scene(rng, dir);
  write_file(dir / "scene.toml", t);
  if (text) *text = t;
  return read_scene((dir / "scene.toml").string());
}

void turn_random_scene(Scene& scene, int seed, bool rotating) {
  scene.sample.stage.present = true;
  scene.sample.stage.axis = seed % 2;  // x or y: every angle is a supported pose
  for (size_t i = 0; i < scene.scan.steps.size(); ++i) scene.scan.steps[i].angle_deg = 13.0 + 37.0 * (seed + i);
  if (!rotating) return;
  ScanStep turn;
  turn.kind = StepKind::kRotate;
  turn.continuous = true;
  turn.from_deg = 0;
  turn.to_deg = 90;
  turn.speed_deg_s = 30;
  scene.scan.steps.push_back(turn);
}

}  // namespace dosemap::test
