// Stage poses (docs/scene-format.md, "Frames and the stage"): where the sample is in the lab
// during an exposure. A pose maps a sample point p to the lab as
//     p_lab = c + R (p - c),   R = R_tilt R_axis(angle),
// c a point on the rotation axis (sample frame), R_axis a right-handed rotation about the
// stage axis (x, y or z at zero tilt), R_tilt a right-handed rotation about lab x. The beam
// travels along +z_lab, so in the sample frame it travels along R^T e_z.
//
// Plain struct and functions: compiled by g++ and by nvcc. Angles that are whole multiples
// of 90 degrees give exact 0 and +-1 (a turn by 90 degrees is then exactly a transposition of
// the grid, and angle 0 without tilt exactly the identity: every scene written before stages
// existed computes exactly what it did).
#pragma once

#include <math.h>

#include "cuda/device.h"

namespace dosemap {

struct Pose {
  double r[3][3];     // sample -> lab rotation, row-major: lab_i = sum_j r[i][j] sample_j
  double center[3];   // the axis point c (um)
  int identity;       // 1: R is exactly the identity (lab and sample frames coincide)
};

// cos and sin of an angle in degrees, exact at whole multiples of 90 degrees.
DM_HD DM_INLINE void sincos_deg(double angle_deg, double* s, double* c) {
  const double turns = angle_deg / 90.0;
  const double n = floor(turns + 0.5);
  if (turns == n) {
    const long long q = ((long long)fmod(n, 4.0) + 4) % 4;
    *s = q == 1 ? 1.0 : q == 3 ? -1.0 : 0.0;
    *c = q == 0 ? 1.0 : q == 2 ? -1.0 : 0.0;
    return;
  }
  const double rad = angle_deg * 0.017453292519943295;  // pi / 180
  *s = sin(rad);
  *c = cos(rad);
}

// Right-handed rotation by `angle_deg` about sample axis `axis` (0 x, 1 y, 2 z) into m.
DM_HD DM_INLINE void axis_rotation(int axis, double angle_deg, double m[3][3]) {
  double s, c;
  sincos_deg(angle_deg, &s, &c);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = i == j ? 1.0 : 0.0;
  const int a = (axis + 1) % 3, b = (axis + 2) % 3;  // (y, z) for x, (z, x) for y, (x, y) for z
  m[a][a] = c;
  m[a][b] = -s;
  m[b][a] = s;
  m[b][b] = c;
}

DM_HD DM_INLINE Pose make_pose(int axis, double angle_deg, double tilt_deg, const double center_um[3]) {
  double ra[3][3], rt[3][3];
  axis_rotation(axis, angle_deg, ra);
  axis_rotation(0, tilt_deg, rt);
  Pose p;
  int identity = 1;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double sum = 0;
      for (int k = 0; k < 3; ++k) sum += rt[i][k] * ra[k][j];
      p.r[i][j] = sum;
      identity = identity && sum == (i == j ? 1.0 : 0.0);
    }
  for (int i = 0; i < 3; ++i) p.center[i] = center_um[i];
  p.identity = identity;
  return p;
}

// Lab coordinates of sample point s (um).
DM_HD DM_INLINE void pose_to_lab(const Pose& p, const double s[3], double lab[3]) {
  if (p.identity) {
    for (int i = 0; i < 3; ++i) lab[i] = s[i];
    return;
  }
  for (int i = 0; i < 3; ++i) {
    double sum = 0;
    for (int j = 0; j < 3; ++j) sum += p.r[i][j] * (s[j] - p.center[j]);
    lab[i] = p.center[i] + sum;
  }
}

// The beam direction (+z_lab) in the sample frame: R^T e_z, a unit vector.
DM_HD DM_INLINE void beam_direction_in_sample(const Pose& p, double d[3]) {
  for (int j = 0; j < 3; ++j) d[j] = p.r[2][j];
}

// The lab (x, y) step of one voxel edge along sample axis `axis` (length_um long).
DM_HD DM_INLINE void lab_step_of_axis(const Pose& p, int axis, double length_um, double out[2]) {
  out[0] = p.r[0][axis] * length_um;
  out[1] = p.r[1][axis] * length_um;
}

}  // namespace dosemap
