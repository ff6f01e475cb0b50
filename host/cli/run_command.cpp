// `dosemap run SCENE [-o DIR]`: validate everything, refuse what cannot fit, compute, then
// write dose.vdb and summary.json (each complete or not at all) and print the report.
#include <filesystem>
#include <iostream>
#include <memory>

#include "host/cli/commands.h"
#include "host/cli/computed_run.h"
#include "host/cli/scene_setup.h"
#include "host/cli/scene_warnings.h"
#include "host/common/progress.h"
#include "host/outputs/output_files.h"
#include "host/outputs/run_summary.h"
#include "host/transport/peak_convergence.h"

namespace dosemap {

namespace {

Backend parse_backend(const std::string& s) {
  if (s == "cpu") return Backend::kCpu;
  if (s == "cuda") return Backend::kCuda;
  return Backend::kAuto;
}

}  // namespace

int run_command(const RunOptions& o, std::ostream& out) {
  const PhaseClock since_setup;
  // Everything a user can get wrong is checked before anything is computed or written.
  auto setup_ptr = std::make_shared<const SceneSetup>(set_up_scene(o.scene, WorkLimits{}, o.threads));
  const SceneSetup& setup = *setup_ptr;
  const Scene& scene = setup.scene;
  refuse_if_short_of_memory(setup);
  if (o.convergence)
    if (auto why = convergence_not_possible(scene, setup.timeline, setup.geometry)) throw UserError({*why});
  // Valid but doubtful (unit slips, voxels too coarse for the beam): said, not refused.
  for (const Diagnostic& w : scene_warnings(setup)) std::cerr << w.format("warning") << "\n";
  RunWriteOptions write;
  write.write_vdb = scene.output.write_vdb;
  write.write_vti = scene.output.write_vti;
  if (!o.formats.empty()) {
    write.write_vdb = write.write_vti = false;
    for (const auto& f : o.formats) (f == "vti" ? write.write_vti : write.write_vdb) = true;
  }
  write.crop_vti = o.crop == "auto";
  const std::string dir =
      o.output_dir.empty() ? (std::filesystem::path("out") / std::filesystem::path(scene.path).stem()).string() : o.output_dir;
  // A label volume is read (and every label checked) before the output directory exists.
  auto grid = std::make_shared<const VoxelGrid>(voxelize(scene));
  // Locked, writable and free of an earlier run (or --overwrite) before anything is
  // computed; results are staged in it and committed at the end, all or nothing.
  RunDirectory out_dir(dir, o.overwrite);

  Progress progress(stderr_is_terminal());
  RunComputeOptions compute;
  compute.engine.backend = parse_backend(o.backend);
  compute.engine.threads = o.threads;
  compute.engine.progress = &progress;
  compute.convergence = o.convergence;
  ComputedRun run = compute_run(setup_ptr, std::move(grid), compute, since_setup);
  write.progress = &progress;
  write_run(run, out_dir, write);
  progress.clear();
  print_run_report(*run.record, dir, out);
  return 0;
}

}  // namespace dosemap
