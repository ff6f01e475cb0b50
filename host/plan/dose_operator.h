// The linear dose operator of a scan at one stage pose (issue 12): per-exposure weights w
// (each exposure's beam-on time multiplied by w_e; 1 = the scene as written) to per-voxel
// dose, D = A w with
//   D_v = G_v sum_e w_e F_{r(v),e},
// F_{r,e} the fluence exposure e puts on ray r (the beam profile integrated over the ray's
// cell, cuda/history_builder.h) and G_v the dose per unit fluence of voxel v behind what the
// ray crossed before it (the march's arithmetic, cuda/ray_march.h). Its adjoint,
//   (A^T u)_e = sum_r F_{r,e} sum_{v on r} G_v u_v,
// gives the gradient of any linear function of the dose with respect to the exposures: what
// the planner's optimisations (dwell times, patterns) are built on. Both in double precision.
#pragma once

#include <memory>
#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/materials/materials.h"
#include "host/scene/scene.h"
#include "host/timeline/timeline.h"
#include "host/transport/transport_params.h"

namespace dosemap {

class DoseOperator {
 public:
  // The scan must keep one stage pose (at_one_pose, host/timeline/timeline.h); the grid is shared.
  DoseOperator(const Scene& scene, const MaterialTable& materials, std::shared_ptr<const VoxelGrid> grid,
               const Timeline& timeline, int threads);

  size_t exposures() const { return exposures_; }
  int64_t voxels() const { return grid_->geometry.voxels(); }
  const VoxelGrid& grid() const { return *grid_; }

  // dose = A w (Gy): w per exposure, dose per voxel (0 in void).
  void forward(const std::vector<double>& w, std::vector<double>& dose) const;
  // out = A^T u: u per voxel (ignored in void), out per exposure.
  void adjoint(const std::vector<double>& u, std::vector<double>& out) const;

  // Per ray: [offset[r], offset[r + 1]) of event_exposure / event_fluence_m2 (photons/m^2 at w = 1).
  const std::vector<int64_t>& ray_offset() const { return offset_; }
  const std::vector<uint32_t>& event_exposure() const { return exposure_; }
  const std::vector<double>& event_fluence_m2() const { return fluence_; }
  // Dose per unit fluence per voxel (Gy m^2; 0 in void and where no ray passes).
  const std::vector<double>& dose_per_fluence() const { return g_; }
  // The voxels of ray r, in beam order, that hold material.
  template <typename Visit>
  void for_each_voxel(long long r, Visit visit) const;

 private:
  std::shared_ptr<const VoxelGrid> grid_;
  RayLattice lattice_{};
  size_t exposures_ = 0;
  int threads_ = 1;
  std::vector<int64_t> offset_;
  std::vector<uint32_t> exposure_;
  std::vector<double> fluence_;
  std::vector<double> g_;
};

template <typename Visit>
void DoseOperator::for_each_voxel(long long r, Visit visit) const {
  long long m1, m2;
  ray_lattice_indices(lattice_, r, &m1, &m2);
  for (long long q = 0; q < lattice_.n[lattice_.dom]; ++q) {
    const int64_t v = ray_voxel(lattice_, m1, m2, q);
    if (v >= 0 && grid_->material[v] != kVoidId) visit(v);
  }
}

}  // namespace dosemap
