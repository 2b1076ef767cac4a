#!/usr/bin/env bash
# Rebuilds open_mocap_h36m17_world_mm.{npz,json} (the merged open set, 30 fps, motion-subsampled)
# and cmu4_h36m17_world_mm.{npz,json} (the original 4 clips, every 120 fps frame) from raw clips
# (not kept in git).
#
# RAW (default /work/rawmocap) must hold, from these exact commits:
#   iclone/*.bvh       DragonForgedTheArtist/IClone-CMU-Mocap @ 79529f962ade3274163af53cd92179cee2ed9407
#                      All_BVH/subjects/<NNN>/<NNN>_<MM>.bvh, flattened
#                      (git -C <clone> show HEAD:All_BVH/subjects/001/001_01.bvh > iclone/001_01.bvh, ...)
#   fairmotion/        facebookresearch/fairmotion @ e400e564deac93bb74ffecd9c366d76b3406e217
#                      tests/data/{01.asf,01_01.amc,11.asf,11_01.amc}
#   bvh11/             yuki-koyama/bvh11 @ c9072174fe89e0bf9776a092179b464ea39975e5
#                      resources/{131_01,131_02,131_03}.bvh
# Run from the repository root: bash data/open_mocap/rebuild.sh
set -euo pipefail
RAW=${RAW:-/work/rawmocap}
OUT=${OUT:-data/open_mocap}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CMU=cmu  # --licence cmu records the CMU database terms

poselifter data convert "$RAW/iclone" -o "$TMP/iclone.npz" --mapping iclone_cc_base --drop-first 1 \
  --clip-prefix iclone_ --licence $CMU --source DragonForgedTheArtist/IClone-CMU-Mocap@79529f962ade3274163af53cd92179cee2ed9407
poselifter data convert "$RAW/fairmotion" -o "$TMP/fairmotion.npz" --mapping cmu31_asf \
  --clip-prefix cmu_ --licence $CMU --source facebookresearch/fairmotion@e400e564deac93bb74ffecd9c366d76b3406e217
poselifter data convert "$RAW/bvh11" -o "$TMP/bvh11.npz" --mapping cmu31_max \
  --clip-prefix cmu_ --licence $CMU --source yuki-koyama/bvh11@c9072174fe89e0bf9776a092179b464ea39975e5
sets=("$TMP/iclone.npz" "$TMP/fairmotion.npz" "$TMP/bvh11.npz")
poselifter data merge "${sets[@]}" -o "$OUT/open_mocap_h36m17_world_mm.npz"
poselifter data info "$OUT/open_mocap_h36m17_world_mm.npz"

# The original 4-clip set, all frames (as in data/open_mocap before the merge), for comparisons.
mkdir -p "$TMP/cmu4"
cp "$RAW/fairmotion/01.asf" "$RAW/fairmotion/01_01.amc" "$TMP/cmu4/"
poselifter data convert "$TMP/cmu4" -o "$TMP/cmu4_fm.npz" --fps 0 --min-motion 0 --mapping cmu31_asf \
  --licence $CMU --source facebookresearch/fairmotion@e400e564deac93bb74ffecd9c366d76b3406e217
poselifter data convert "$RAW/bvh11" -o "$TMP/cmu4_b11.npz" --fps 0 --min-motion 0 --mapping cmu31_max \
  --licence $CMU --source yuki-koyama/bvh11@c9072174fe89e0bf9776a092179b464ea39975e5
poselifter data merge "$TMP/cmu4_fm.npz" "$TMP/cmu4_b11.npz" -o "$OUT/cmu4_h36m17_world_mm.npz"
poselifter data info "$OUT/cmu4_h36m17_world_mm.npz"
