// The invalid-scene corpus: every tests/scenes/invalid/*.toml is a full scene with exactly
// one mistake, and `dosemap check` and `dosemap run` must reject it the way the scene contract promises
// (docs/scene-format.md): exit code 2, "file:line:col: error: ..." pointing at the mistake,
// a message that says what is wrong and how to fix it, nothing on stdout, nothing written.
//
// Each scene states what it expects in header comments:
//   # expect-line: N          the 1-based line the first error must point to
//   # expect-text: TEXT       a substring of stderr (one or more such lines)
//   # expect-file: NAME       the file the location is in, when not the scene itself
//                             (e.g. a CSV beside it); relative to the scene's directory
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace dosemap::test {
namespace {

namespace fs = std::filesystem;

struct Expectation {
  int line = 0;                    // 0: not given; -1: given but not a positive whole number
  std::vector<std::string> texts;  // substrings stderr must contain
  std::string file;                // where the location is, relative to the scene; empty: the scene
  std::vector<std::string> problems;  // malformed or unknown "# expect-..." lines
};

fs::path corpus_dir() { return fs::absolute(source_path("tests/scenes/invalid")); }

// Every *.toml in the corpus, sorted; empty when the directory is missing.
std::vector<fs::path> corpus_files() {
  std::vector<fs::path> out;
  std::error_code ec;
  const fs::path dir = corpus_dir();
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".toml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

Expectation read_expectation(const fs::path& scene) {
  Expectation ex;
  std::istringstream in(read_file(scene));
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    const std::string prefix = "# expect-";
    if (t.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t colon = t.find(':');
    const std::string directive = colon == std::string::npos ? t : t.substr(0, colon);
    const std::string value = colon == std::string::npos ? std::string() : trim(t.substr(colon + 1));
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (directive == "# expect-line") {
      const bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); });
      if (ex.line != 0) ex.problems.push_back(where + "a second expect-line");
      ex.line = digits && value.size() < 8 ? std::stoi(value) : -1;
      if (ex.line <= 0) {
        ex.line = -1;
        ex.problems.push_back(where + "expect-line must be a positive whole number, got '" + value + "'");
      }
    } else if (directive == "# expect-text") {
      if (value.empty()) ex.problems.push_back(where + "empty expect-text");
      else ex.texts.push_back(value);
    } else if (directive == "# expect-file") {
      if (value.empty()) ex.problems.push_back(where + "empty expect-file");
      if (!ex.file.empty()) ex.problems.push_back(where + "a second expect-file");
      ex.file = value;
    } else {
      ex.problems.push_back(where + "unknown directive '" + directive + "' (expect-line, expect-text or expect-file)");
    }
  }
  return ex;
}

// The file the error location must name: the scene, or the expect-file beside it.
fs::path location_file(const fs::path& scene, const Expectation& ex) {
  return ex.file.empty() ? scene : scene.parent_path() / ex.file;
}

std::string test_name(const fs::path& scene) {
  std::string s = scene.stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- the corpus itself: present, big enough, every file with expectations ----

TEST(InvalidSceneCorpus, EveryFileStatesItsExpectations) {
  const std::vector<fs::path> files = corpus_files();
  ASSERT_GE(files.size(), 20u) << "the invalid-scene corpus " << corpus_dir()
                               << " is missing or has fewer than 20 scenes";
  std::set<std::string> names;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_TRUE(names.insert(test_name(f)).second) << "two scenes map to the test name " << test_name(f);
    const Expectation ex = read_expectation(f);
    EXPECT_GT(ex.line, 0) << f.filename() << " has no valid '# expect-line: N'";
    EXPECT_FALSE(ex.texts.empty()) << f.filename() << " has no '# expect-text: ...'";
    for (const auto& p : ex.problems) ADD_FAILURE() << f.filename() << ": " << p;
    if (!ex.file.empty()) {
      EXPECT_TRUE(fs::is_regular_file(location_file(f, ex)))
          << f.filename() << " names expect-file " << ex.file << ", which does not exist beside it";
    }
  }
}

// ---- each scene: rejected by `dosemap check` with the promised message ----

class InvalidSceneTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(InvalidSceneTest, CheckRejectsWithLocatedError) {
  const fs::path scene = GetParam();
  const Expectation ex = read_expectation(scene);
  ASSERT_GT(ex.line, 0) << scene.filename() << " has no valid '# expect-line: N'";
  ASSERT_FALSE(ex.texts.empty()) << scene.filename() << " has no '# expect-text: ...'";
  ASSERT_TRUE(ex.problems.empty()) << scene.filename() << ": " << ex.problems.front();

  ScratchDir work;
  const CommandResult r = run_dosemap({"check", scene.string()}, work.path());
  SCOPED_TRACE("dosemap check " + scene.string() + "\n--- stderr ---\n" + r.err + "--- stdout ---\n" + r.out);

  EXPECT_EQ(r.exit_code, 2) << "a user error must exit with code 2";
  const std::string location = location_file(scene, ex).string() + ":" + std::to_string(ex.line) + ":";
  const std::string first_line = r.err.substr(0, r.err.find('\n'));
  EXPECT_EQ(first_line.rfind(location, 0), 0u) << "the first error does not point at " << location;
  for (const auto& t : ex.texts) EXPECT_TRUE(contains(r.err, t)) << "stderr lacks \"" << t << "\"";
  EXPECT_TRUE(contains(r.err, "error:")) << "stderr has no \"error:\"";
  EXPECT_EQ(r.out, "") << "nothing may go to stdout for an invalid scene";
  const std::vector<std::string> written = work.entries();
  EXPECT_TRUE(written.empty()) << "dosemap wrote " << written.size() << " entries into its working directory, first "
                               << (written.empty() ? std::string() : written.front());

  // `run` rejects the same scene the same way, before creating its output directory.
  const CommandResult run = run_dosemap({"run", scene.string(), "-o", "results"}, work.path());
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err.substr(0, run.err.find('\n')), first_line) << "run and check report differently";
  EXPECT_TRUE(work.entries().empty()) << "dosemap run wrote into its working directory";
}

INSTANTIATE_TEST_SUITE_P(Corpus, InvalidSceneTest, ::testing::ValuesIn(corpus_files()),
                         [](const ::testing::TestParamInfo<fs::path>& info) { return test_name(info.param); });
// An empty or missing corpus generates no parameterized tests: EveryFileStatesItsExpectations
// fails then (and googletest reports the parameterized suite as uninstantiated).

}  // namespace
}  // namespace dosemap::test
