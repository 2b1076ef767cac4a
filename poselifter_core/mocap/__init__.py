"""Motion capture import: BVH and ASF/AMC files -> Human3.6M-17 world joints in millimetres.

* :mod:`.kinematics`: Euler angles to rotation matrices and forward kinematics (numpy, batched).
* :mod:`.bvh` and :mod:`.asf_amc`: parsers with clear errors that produce source-joint positions.
* :mod:`.mapping`: the source-skeleton -> H36M-17 joint mapping, read from a small YAML file.
* :mod:`.convert`: frame subsampling, per-clip metadata, subject splits and the npz + JSON output.
"""
