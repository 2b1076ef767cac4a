#!/usr/bin/env bash
# Rebuilds open_mocap_h36m17_world_mm.{npz,json} (the merged open set: 20 Hz, then motion-subsampled
# at 10 mm) and cmu4_h36m17_world_mm.{npz,json} (the original 4 clips, every 120 fps frame) from raw
# clips (not kept in git). Run from the repository root: bash data/open_mocap/rebuild.sh
#
# INCOMING (default /work/shared/data/incoming) holds the six archives described in its SOURCES.md:
#   sxaxmz_CMU-Dataset-Partially-Labelled.tar.xz, hdm05_zhangchi8620_JointLearning-HDM05.tar.xz,
#   cmu_more_subjects.tar.xz, chrystianosaraujo_motion-viewer.tar.xz, przestr_motion-capture.tar.xz,
#   beemsoft_webxr-handtracking-playground.tar.xz
# They are unpacked into UNPACKED (default: a temporary folder; give an already unpacked folder to
# skip that step). RAW (default /work/rawmocap) must hold, from these exact commits:
#   fairmotion/        facebookresearch/fairmotion @ e400e564deac93bb74ffecd9c366d76b3406e217
#                      tests/data/{01.asf,01_01.amc,11.asf,11_01.amc}
#   bvh11/             yuki-koyama/bvh11 @ c9072174fe89e0bf9776a092179b464ea39975e5
#                      resources/{131_01,131_02,131_03}.bvh
# (git -C <clone> show <commit>:tests/data/01.asf > fairmotion/01.asf, ...)
#
# One version per recording: every CMU clip is named cmu_<subject>_<trial> whatever its release,
# and `merge --keep-first` keeps the first set listed. The sets are listed by preference: the
# performer's own calibrated skeleton as ASF/AMC, then own-skeleton BVH, then the Daz-friendly
# retargets (one fixed figure for everybody). The IClone retargets of the previous set (CMU 1-7 on
# one character) are all replaced by own-skeleton versions of the same trials and are not rebuilt.
# Each recording once: convert records a digest of every source file (line endings normalised) and
# merge keeps one copy of a recording found under several clip ids or subject labels, under the
# subject with the most clips (ethanngam's "91" = sxaxmz's 105: the six cmu_91 clips are dropped);
# it prints every dropped copy and lists it in the JSON's dropped_duplicates.
set -euo pipefail
INCOMING=${INCOMING:-/work/shared/data/incoming}
RAW=${RAW:-/work/rawmocap}
OUT=${OUT:-data/open_mocap}
if [[ -n "${WORK:-}" ]]; then  # WORK: keep the per-source sets there (default: a temporary folder)
  TMP=$WORK
  mkdir -p "$TMP"
else
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
fi
if [[ -z "${UNPACKED:-}" ]]; then
  UNPACKED=$TMP/incoming
  mkdir -p "$UNPACKED"
  for archive in "$INCOMING"/*.tar.xz; do tar -xJf "$archive" -C "$UNPACKED"; done
fi
CMU=cmu  # --licence cmu records the CMU database terms
HDM05_LICENCE="HDM05 (resources.mpi-inf.mpg.de/HDM05, Mueller et al. 2007), CC BY-SA 3.0: attribution, share-alike"
RATE=(--fps 20 --min-motion 10)
SX=$UNPACKED/sxaxmz_CMU-Dataset-Partially-Labelled/asfamc
HDM=$UNPACKED/hdm05_zhangchi8620_JointLearning-HDM05/asfamc
MORE=$UNPACKED/cmu_more_subjects
MV=$UNPACKED/chrystianosaraujo_motion-viewer/bvh
PZ=$UNPACKED/przestr_motion-capture/bvh
BS=$UNPACKED/beemsoft_webxr-handtracking-playground/bvh
convert() { poselifter data convert "${RATE[@]}" "$@"; }

# 1. ASF/AMC, the performer's own calibrated skeleton (AMC carries no rate: CMU's 120 Hz).
convert "$RAW/fairmotion" -o "$TMP/a_fairmotion.npz" --mapping cmu31_asf --clip-prefix cmu_ --licence $CMU \
  --source facebookresearch/fairmotion@e400e564deac93bb74ffecd9c366d76b3406e217
# sxaxmz: 35_18..26 have no 35.asf anywhere (not converted); 105 comes from an older commit.
convert "$SX"/{02,05,06,09,10,14,16,49,55,93}_*.amc -o "$TMP/a_sxaxmz.npz" --mapping cmu31_asf --clip-prefix cmu_ \
  --licence $CMU --source sxaxmz/CMU-Dataset-Partially-Labelled@f138249d5133b2eecf55e6602b83a0c35a891ee9
convert "$SX"/105_*.amc -o "$TMP/a_sxaxmz_105.npz" --mapping cmu31_asf --clip-prefix cmu_ \
  --licence $CMU --source sxaxmz/CMU-Dataset-Partially-Labelled@d602543cf0c92253be7347b9f695b17bb89011dc
for actor in bd bk dg mm; do  # HDM05 actor tr is held out of the project (an independent test)
  convert "$HDM"/HDM_${actor}_*.amc -o "$TMP/a_hdm05_$actor.npz" --mapping cmu31_asf --asf "$HDM/HDM_$actor.asf" \
    --subject-prefix hdm05 --subject-pattern '^HDM_([a-z]{2})_' --licence "$HDM05_LICENCE" \
    --source zhangchi8620/JointLearning-HDM05@b252ad65598e052c38f49490c1ac9dbadc283fd3
done
convert "$MORE/SheffieldML_GPmat" -o "$TMP/a_gpmat.npz" --mapping cmu31_asf --clip-prefix cmu_ --licence $CMU \
  --source SheffieldML/GPmat@4b5914a
convert "$MORE/ethanngam_motion-graphs" -o "$TMP/a_ethanngam.npz" --mapping cmu31_asf --clip-prefix cmu_ --licence $CMU \
  --source ethanngam/motion-graphs@0afd27a
convert "$MORE/maxxgx_motion-graphs" -o "$TMP/a_maxxgx.npz" --mapping cmu31_asf --clip-prefix cmu_ --licence $CMU \
  --source maxxgx/motion-graphs@45372d8
convert "$MORE/Kay1794_Mocap-Keyframe-Interpolation" -o "$TMP/a_kay.npz" --mapping cmu31_asf --clip-prefix cmu_ \
  --asf "$MORE/Kay1794_Mocap-Keyframe-Interpolation/135-martialArts.asf" --clip-pattern '^(\d+_\d+)' --licence $CMU \
  --source Kay1794/Mocap-Keyframe-Interpolation@f19d313
convert "$MORE"/encadyma_motion-out/135_*.amc -o "$TMP/a_encadyma_135.npz" --mapping cmu31_asf --clip-prefix cmu_ \
  --asf "$MORE/encadyma_motion-out/135__martialwalk.asf" --licence $CMU --source encadyma/motion-out@4855c55
# 63_01__golf_01.amc (= CMU 63_01) ends in a cut-off frame 444: converted without it.
golf=$MORE/encadyma_motion-out/63_01__golf_01.amc
last=$(grep -n '^[0-9][0-9]*$' "$golf" | tail -1 | cut -d: -f1)
mkdir -p "$TMP/golf" && head -n $((last - 1)) "$golf" > "$TMP/golf/63_01.amc"
convert "$TMP/golf/63_01.amc" -o "$TMP/a_encadyma_63.npz" --mapping cmu31_asf --clip-prefix cmu_ \
  --asf "$MORE/encadyma_motion-out/63__golf.asf" --licence $CMU --source encadyma/motion-out@4855c55

# 2. BVH on the performer's own skeleton.
convert "$MV" -o "$TMP/b_motion_viewer.npz" --mapping cmu31_bvh --drop-first 1 --clip-prefix cmu_ --licence $CMU \
  --source chrystianosaraujo/motion-viewer@6d7ca60c300f123528be0fd0939cf7a584a13f65
convert "$RAW/bvh11" -o "$TMP/b_bvh11.npz" --mapping cmu31_max --clip-prefix cmu_ --licence $CMU \
  --source yuki-koyama/bvh11@c9072174fe89e0bf9776a092179b464ea39975e5
convert "$PZ"/16_0{1,2}.bvh -o "$TMP/b_przestr_asfnames.npz" --mapping cmu31_asf_bvh --clip-prefix cmu_ --licence $CMU \
  --source Przestr/motion-capture@c200c31036a2b8cd2182ddbc85756b2dd79d70d2

# 3. Daz-friendly retargets (one fixed figure): only trials no own-skeleton release above has survive the merge.
convert $(ls "$PZ"/*.bvh | grep -v '/16_0[12]\.bvh$') -o "$TMP/c_przestr_daz.npz" --mapping daz_friendly --drop-first 1 \
  --clip-prefix cmu_ --licence $CMU --source Przestr/motion-capture@c200c31036a2b8cd2182ddbc85756b2dd79d70d2
convert "$BS" -o "$TMP/c_beemsoft_daz.npz" --mapping daz_friendly --unit 1280 --clip-pattern '^(\d+_\d+)' \
  --clip-prefix cmu_ --licence $CMU --source beemsoft/webxr-handtracking-playground@c75be0627feb6cd30ed1e269a7b4a32f26e99404
convert "$MORE/papagina_Auto_Conditioned_RNN_motion/indian_subject94_daz" -o "$TMP/c_papagina_daz.npz" \
  --mapping daz_friendly --drop-first 1 --subject cmu_94 --clip-prefix cmu_94_ --licence $CMU \
  --source papagina/Auto_Conditioned_RNN_motion@fbb7f64

poselifter data merge --keep-first --round-mm 0.125 "$TMP"/a_*.npz "$TMP"/b_*.npz "$TMP"/c_*.npz -o "$OUT/open_mocap_h36m17_world_mm.npz"
poselifter data info "$OUT/open_mocap_h36m17_world_mm.npz"

# The original 4-clip set, all frames (as in data/open_mocap before the first merge), for comparisons.
mkdir -p "$TMP/cmu4"
cp "$RAW/fairmotion/01.asf" "$RAW/fairmotion/01_01.amc" "$TMP/cmu4/"
poselifter data convert "$TMP/cmu4" -o "$TMP/cmu4_fm.npz" --fps 0 --min-motion 0 --mapping cmu31_asf \
  --licence $CMU --source facebookresearch/fairmotion@e400e564deac93bb74ffecd9c366d76b3406e217
poselifter data convert "$RAW/bvh11" -o "$TMP/cmu4_b11.npz" --fps 0 --min-motion 0 --mapping cmu31_max \
  --licence $CMU --source yuki-koyama/bvh11@c9072174fe89e0bf9776a092179b464ea39975e5
poselifter data merge "$TMP/cmu4_fm.npz" "$TMP/cmu4_b11.npz" -o "$OUT/cmu4_h36m17_world_mm.npz"
poselifter data info "$OUT/cmu4_h36m17_world_mm.npz"
