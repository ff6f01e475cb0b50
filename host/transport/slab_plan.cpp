#include "host/transport/slab_plan.h"

namespace dosemap {

double slab_column_bytes(const MarchParams& p) {
  const double voxel = sizeof(uint16_t) + 4.0 * (3 + p.n_thresholds + p.n_component_grids + p.n_frames);
  // Per column: slot crossings, the offset, event count and cursor, the energy per unit
  // fluence and the total fluence, and the march's transmission scratch for long spectra.
  const double lines = p.n_lines > kInlineSpectrumLines ? 8.0 * p.n_lines : 0.0;
  return voxel * p.nz + 4.0 * p.n_slots * p.n_thresholds + 3 * 8.0 + 4 * 8.0 + 8.0 + lines;
}

std::vector<uint64_t> events_per_row(const std::vector<SubExposure>& subs, const BeamProfile& beam, const GridGeometry& g) {
  const int64_t ny = g.dims[1];
  std::vector<int64_t> diff(ny + 1, 0);  // difference array over rows
  for (const SubExposure& s : subs) {
    const ColumnRect r = footprint(beam, g, s);
    if (r.count() == 0) continue;
    diff[r.j0] += r.i1 - r.i0;
    diff[r.j1] -= r.i1 - r.i0;
  }
  std::vector<uint64_t> rows(ny);
  int64_t running = 0;
  for (int64_t j = 0; j < ny; ++j) rows[j] = static_cast<uint64_t>(running += diff[j]);
  return rows;
}

std::vector<Slab> plan_slabs(const MarchParams& p, const std::vector<uint64_t>& row_events, int64_t nx,
                             double budget_bytes) {
  const double row_bytes = slab_column_bytes(p) * nx;
  std::vector<Slab> slabs;
  Slab cur;
  double cur_bytes = 0;
  for (int64_t j = 0; j < static_cast<int64_t>(row_events.size()); ++j) {
    const double add = row_bytes + row_events[j] * kSlabEventBytes;
    if (add > budget_bytes || row_events[j] >= (uint64_t(1) << 32)) return {};
    if (cur.row1 > cur.row0 && (cur_bytes + add > budget_bytes || cur.events + row_events[j] >= (uint64_t(1) << 32))) {
      slabs.push_back(cur);
      cur = Slab{j, j, 0};
      cur_bytes = 0;
    }
    cur.row1 = j + 1;
    cur.events += row_events[j];
    cur_bytes += add;
  }
  if (cur.row1 > cur.row0) slabs.push_back(cur);
  return slabs;
}

}  // namespace dosemap
