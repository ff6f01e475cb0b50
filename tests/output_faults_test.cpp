// A run's outputs under faults, each as a user meets it, on the real dosemap binary: a disk
// that fills up or fails (injected into the real system calls by
// tests/fault_injection/write_faults.c), a directory that cannot be written or is not a
// directory, two runs into one directory, --overwrite over a different earlier run,
// planted symbolic links, a scene file name that is not UTF-8, Ctrl-C and SIGTERM, and
// `dosemap info` on cut or altered files. Every case ends with exit code 2 (or the
// signal) and a directory holding either the earlier run, whole, or the new one, whole.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "host/common/errors.h"
#include "host/outputs/checked_file.h"
#include "tests/test_support.h"

namespace dosemap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using test::run_dosemap;
using test::ScratchDir;

// Both formats and frames, so that every kind of file is written.
std::string scene_text(int frames, const std::string& formats = "\"vdb\", \"vti\"", int lateral_um = 80) {
  return R"(format = 1
title = "faults"
[materials.copper]
formula = "Cu"
[sample]
voxel_um = [2.0, 2.0, 2.0]
lateral_um = [)" +
         std::to_string(lateral_um) + ".0, " + std::to_string(lateral_um) + R"(.0]
[[sample.layers]]
material = "copper"
thickness_um = 20.0
[beam]
energy_keV = 27.0
flux_ph_s = 1e10
profile = "gaussian"
fwhm_um = [10.0, 10.0]
[[scan.steps]]
kind = "point"
at_um = [0.0, 0.0]
exposure_s = 100.0
[output]
formats = [)" + formats +
         "]\n" + (frames > 0 ? "frame_every_s = " + std::to_string(100.0 / frames) + "\n" : std::string());
}

// Every entry under `dir`, relative, sorted (directories included).
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
    out.push_back(fs::relative(it->path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

// Every regular file under `dir` with its contents.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = test::read_file(e.path());
  return out;
}

// The directory holds exactly one whole run: the files its summary lists, nothing else.
void expect_one_whole_run(const fs::path& dir) {
  ASSERT_TRUE(fs::exists(dir / "summary.json")) << dir;
  const Json summary = Json::parse(test::read_file(dir / "summary.json"));
  std::set<std::string> listed;
  for (const auto& f : summary["files"]) listed.insert(f.get<std::string>());
  std::set<std::string> present;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory()) present.insert(fs::relative(e.path(), dir).string());
  EXPECT_EQ(present, listed);
}

struct Scene {
  ScratchDir dir;
  fs::path path;
  explicit Scene(const std::string& text, const std::string& name = "scene.toml") : path(dir / name) {
    test::write_file(path, text);
  }
};

// ---- a disk that fills up or fails ----

TEST(OutputFaults, ADiskFullAtAnyPointLeavesNoResultAndExitsWithTwo) {
  Scene scene(scene_text(3));
  const fs::path good = scene.dir / "good";
  ASSERT_EQ(run_dosemap({"run", scene.path.string(), "-o", good.string()}).exit_code, 0);
  int64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(good))
    if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
  // Full from the first byte, inside the frames, inside dose.vti, inside dose.vdb, and
  // within the last bytes (the integrity record, summary.json).
  for (const int64_t limit : {int64_t(0), int64_t(1000), total / 4, total / 2, total * 3 / 4, total - 200, total - 10}) {
    SCOPED_TRACE("disk full after " + std::to_string(limit) + " of " + std::to_string(total) + " bytes");
    // Two levels the run creates, given with a trailing slash.
    const fs::path out = scene.dir / "full";
    const auto r = run_dosemap({"run", scene.path.string(), "-o", (out / "deeper").string() + "/"}, {},
                               test::with_faults({"DOSEMAP_FAULT_WRITE_BYTES=" + std::to_string(limit)}));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("cannot write: No space left on device"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("free disk space"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "the run created " << out << " and must remove it";
  }
  // Over an earlier run (--overwrite): the earlier run stays, whole and unchanged.
  const auto before = snapshot(good);
  for (const int64_t limit : {int64_t(0), total / 2, total - 10}) {
    const auto r = run_dosemap({"run", scene.path.string(), "-o", good.string(), "--overwrite"}, {},
                               test::with_faults({"DOSEMAP_FAULT_WRITE_BYTES=" + std::to_string(limit)}));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(snapshot(good), before);
    expect_one_whole_run(good);
  }
}

TEST(OutputFaults, AFailingFsyncIsAnErrorNotASilentlyLostFile) {
  Scene scene(scene_text(0, "\"vdb\""));
  const fs::path out = scene.dir / "out";
  const auto r = run_dosemap({"run", scene.path.string(), "-o", out.string()}, {},
                             test::with_faults({"DOSEMAP_FAULT_FSYNC=1"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot write: Input/output error"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

// ---- directories that cannot take a run ----

TEST(OutputFaults, AnUnwritableOrNonDirectoryOutputIsRefusedBeforeComputing) {
  Scene scene(scene_text(0, "\"vdb\""));
  const fs::path ro = scene.dir / "readonly";
  fs::create_directories(ro);
  const auto r = run_dosemap({"run", scene.path.string(), "-o", ro.string()}, {},
                             test::with_faults({"DOSEMAP_FAULT_READONLY=" + ro.string()}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind(ro.string() + ": error: cannot write into the output directory: Read-only file system", 0), 0u)
      << r.err;
  EXPECT_TRUE(entries(ro).empty());

  test::write_file(scene.dir / "a_file", "x");
  const auto file = run_dosemap({"run", scene.path.string(), "-o", (scene.dir / "a_file").string()});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("exists and is not a directory"), std::string::npos) << file.err;
  const auto under = run_dosemap({"run", scene.path.string(), "-o", (scene.dir / "a_file/sub").string()});
  EXPECT_EQ(under.exit_code, 2);
  EXPECT_NE(under.err.find("cannot create output directory"), std::string::npos) << under.err;
  EXPECT_EQ(test::read_file(scene.dir / "a_file"), "x");
}

// ---- two runs into one directory ----

TEST(OutputFaults, ARunRefusesADirectoryAnotherRunHolds) {
  Scene scene(scene_text(0, "\"vdb\""));
  const fs::path out = scene.dir / "out";
  fs::create_directories(out);
  // Hold the lock as a running dosemap does.
  const int fd = ::open((out / ".dosemap.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const auto r = run_dosemap({"run", scene.path.string(), "-o", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("another dosemap run is writing into this directory"), std::string::npos) << r.err;
  EXPECT_EQ(entries(out), std::vector<std::string>{".dosemap.lock"});
  ::close(fd);
  const auto after = run_dosemap({"run", scene.path.string(), "-o", out.string()});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  expect_one_whole_run(out);  // and the lock file is gone
}

TEST(OutputFaults, TwoRunsStartedTogetherNeverInterleave) {
  Scene a(scene_text(20, "\"vdb\", \"vti\"", 160));
  Scene b(scene_text(0, "\"vdb\"", 160), "other.toml");
  const fs::path out = a.dir / "shared";
  test::BackgroundRun first({"run", a.path.string(), "-o", out.string(), "--overwrite"});
  test::BackgroundRun second({"run", b.path.string(), "-o", out.string(), "--overwrite"});
  const int s1 = first.wait(), s2 = second.wait();
  ASSERT_TRUE(WIFEXITED(s1) && WIFEXITED(s2));
  const int e1 = WEXITSTATUS(s1), e2 = WEXITSTATUS(s2);
  EXPECT_TRUE(e1 == 0 || e2 == 0) << first.err() << second.err();
  for (const auto& [code, err] : {std::pair{e1, first.err()}, std::pair{e2, second.err()}})
    if (code != 0) {
      EXPECT_EQ(code, 2);
      EXPECT_NE(err.find("another dosemap run is writing into this directory"), std::string::npos) << err;
    }
  expect_one_whole_run(out);
}

// ---- --overwrite replaces a run wholly ----

TEST(OutputFaults, OverwriteLeavesNoFileOfTheEarlierRun) {
  Scene rich(scene_text(4, "\"vdb\", \"vti\""));
  const fs::path out = rich.dir / "out";
  ASSERT_EQ(run_dosemap({"run", rich.path.string(), "-o", out.string()}).exit_code, 0);
  ASSERT_TRUE(fs::exists(out / "frames/dose_0004.vti"));
  // Figures drawn from it, and temporary files left by an older dosemap that was killed.
  for (const char* f : {"depth_profile.png", "depth_profile.csv", "lateral_map.png", "paraview_slice.png", ".dose.vdb.partial-4242",
                        "frames/.dose_0001.vdb.partial-77"})
    test::write_file(out / f, "stale");
  test::write_file(out / "notes.txt", "the user's own file");
  Scene plain(scene_text(0, "\"vdb\""), "plain.toml");
  const auto r = run_dosemap({"run", plain.path.string(), "-o", out.string(), "--overwrite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(entries(out), (std::vector<std::string>{"dose.vdb", "dose_history.json", "notes.txt", "points.csv", "points.h5", "summary.json"}));
  EXPECT_EQ(test::read_file(out / "notes.txt"), "the user's own file");
}

// ---- symbolic links and temporary names ----

TEST(OutputFaults, PlantedSymbolicLinksAreNeverFollowed) {
  Scene scene(scene_text(0, "\"vdb\""));
  const fs::path victim = scene.dir / "victim.txt";
  test::write_file(victim, "precious");
  const fs::path out = scene.dir / "out";
  ASSERT_EQ(run_dosemap({"run", scene.path.string(), "-o", out.string()}).exit_code, 0);
  // At a final name: replaced as a name, the file it points to untouched.
  fs::remove(out / "dose.vdb");
  fs::create_symlink(victim, out / "dose.vdb");
  fs::create_symlink(victim, out / "dose_history.json.tmp");
  auto r = run_dosemap({"run", scene.path.string(), "-o", out.string(), "--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_file(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(out / "dose.vdb"));
  // At the lock's name: refused.
  const fs::path locked = scene.dir / "locked";
  fs::create_directories(locked);
  fs::create_symlink(victim, locked / ".dosemap.lock");
  r = run_dosemap({"run", scene.path.string(), "-o", locked.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("remove the symbolic link"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(victim), "precious");
  // A new file is created exclusively: never through a link, never over a file.
  EXPECT_THROW(CheckedFile((out / "dose_history.json.tmp").string(), "x"), UserError);
  EXPECT_THROW(CheckedFile((out / "dose.vdb").string(), "x"), UserError);
  EXPECT_EQ(test::read_file(victim), "precious");
}

TEST(OutputFaults, TemporaryNamesCannotBePredicted) {
  // The staging directory of a run in progress: a new random name each time.
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    Scene scene(scene_text(60, "\"vdb\", \"vti\"", 200));
    const fs::path out = scene.dir / "out";
    test::BackgroundRun run({"run", scene.path.string(), "-o", out.string()});
    std::string staging;
    while (staging.empty() && run.running()) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(out, ec))
        if (e.path().filename().string().rfind(".dosemap-staging-", 0) == 0) staging = e.path().filename().string();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    run.wait();
    ASSERT_FALSE(staging.empty()) << "the run ended before its staging directory was seen";
    EXPECT_EQ(staging.size(), std::string(".dosemap-staging-").size() + 6);
    EXPECT_TRUE(seen.insert(staging.substr(17)).second) << staging;
    expect_one_whole_run(out);  // and no staging directory remains
  }
}

// ---- file names that are not UTF-8 ----

TEST(OutputFaults, ASceneFileNameThatIsNotUtf8RunsAndWritesValidJson) {
  std::string text = scene_text(2);
  text.erase(text.find("title = \"faults\"\n"), 17);  // the title then comes from the file name
  Scene scene(text, "r\xE9sultat\xFF.toml");
  const auto check = run_dosemap({"check", scene.path.string()});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  const fs::path out = scene.dir / "out";
  const auto r = run_dosemap({"run", scene.path.string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // nlohmann::json refuses invalid UTF-8: parsing is the check.
  const Json summary = Json::parse(test::read_file(out / "summary.json"));
  EXPECT_EQ(summary["title"], "r\xEF\xBF\xBDsultat\xEF\xBF\xBD");
  EXPECT_TRUE(Json::parse(test::read_file(out / "dose_history.json")).is_object());
  const auto info = run_dosemap({"info", (out / "dose.vdb").string()});
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("title: r\xEF\xBF\xBDsultat"), std::string::npos) << info.out;
}

// ---- Ctrl-C and SIGTERM ----

// Runs a slow scene in the background and signals it once `ready` holds for its output.
void interrupt_run(const fs::path& scene, const fs::path& out, int sig, bool overwrite,
                   const std::function<bool(const fs::path& staging)>& ready) {
  std::vector<std::string> args{"run", scene.string(), "-o", out.string()};
  if (overwrite) args.push_back("--overwrite");
  test::BackgroundRun run(args);
  bool signalled = false;
  while (run.running()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec))
      if (e.path().filename().string().rfind(".dosemap-staging-", 0) == 0 && ready(e.path())) {
        run.signal(sig);
        signalled = true;
      }
    if (signalled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const int status = run.wait();
  ASSERT_TRUE(signalled) << "the run ended before it could be interrupted:\n" << run.err();
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status << "\n" << run.err();
  EXPECT_EQ(WTERMSIG(status), sig);
  EXPECT_NE(run.err().find("dosemap: stopped by"), std::string::npos) << run.err();
}

TEST(OutputFaults, CtrlCOrSigtermRemovesEverythingUnfinished) {
  Scene scene(scene_text(150, "\"vdb\", \"vti\"", 200));
  // While computing (nothing staged yet): the directory the run created is gone again.
  const fs::path fresh = scene.dir / "fresh";
  interrupt_run(scene.path, fresh, SIGINT, false, [](const fs::path&) { return true; });
  EXPECT_FALSE(fs::exists(fresh));
  // While writing frames, over an earlier run: that run stays whole and unchanged.
  const fs::path earlier = scene.dir / "earlier";
  Scene small(scene_text(0, "\"vdb\""), "small.toml");
  ASSERT_EQ(run_dosemap({"run", small.path.string(), "-o", earlier.string()}).exit_code, 0);
  const auto before = snapshot(earlier);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    interrupt_run(scene.path, earlier, sig, true,
                  [](const fs::path& staging) { return fs::exists(staging / "frames/dose_0003.vti"); });
    EXPECT_EQ(snapshot(earlier), before);
    expect_one_whole_run(earlier);
  }
}

// ---- reading back: cut or altered files ----

TEST(OutputFaults, InfoRefusesCutOrAlteredFilesAtOnce) {
  Scene scene(scene_text(1, "\"vdb\""));
  const fs::path out = scene.dir / "out";
  ASSERT_EQ(run_dosemap({"run", scene.path.string(), "-o", out.string()}).exit_code, 0);
  const std::string whole = test::read_file(out / "dose.vdb");
  ASSERT_EQ(run_dosemap({"info", (out / "dose.vdb").string()}).exit_code, 0);
  const fs::path bad = scene.dir / "bad.vdb";
  for (const size_t keep : {size_t(0), size_t(8), size_t(31), size_t(200), whole.size() / 3, whole.size() / 2,
                            whole.size() - 33, whole.size() - 32, whole.size() - 1}) {
    test::write_file(bad, whole.substr(0, keep));
    const auto r = run_dosemap({"info", bad.string()});
    EXPECT_EQ(r.exit_code, 2) << "cut to " << keep << " bytes: " << r.err;
    EXPECT_EQ(r.err.rfind(bad.string() + ": error: ", 0), 0u) << r.err;
  }
  // One byte changed anywhere (in the grids, in the header, in the record itself).
  for (const size_t at : {size_t(0), size_t(20), whole.size() / 2, whole.size() - 40, whole.size() - 20, whole.size() - 1}) {
    std::string altered = whole;
    altered[at] = static_cast<char>(altered[at] ^ 0x5A);
    test::write_file(bad, altered);
    const auto r = run_dosemap({"info", bad.string()});
    EXPECT_EQ(r.exit_code, 2) << "byte " << at << " altered: " << r.err;
  }
  std::string altered = whole;
  altered[whole.size() / 2] = static_cast<char>(altered[whole.size() / 2] ^ 1);
  test::write_file(bad, altered);
  EXPECT_NE(run_dosemap({"info", bad.string()}).err.find("is corrupt"), std::string::npos);
  test::write_file(bad, whole.substr(0, whole.size() / 2));
  EXPECT_NE(run_dosemap({"info", bad.string()}).err.find("cut off"), std::string::npos);
  // Frames carry the record too.
  EXPECT_EQ(run_dosemap({"info", (out / "frames/dose_0001.vdb").string()}).exit_code, 0);
}

}  // namespace
}  // namespace dosemap
