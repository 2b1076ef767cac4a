#!/usr/bin/env bash
# After `pip install -r requirements-ros.txt` into a virtual environment: rewrite the include paths
# the ros-jazzy-* wheels' CMake files hard-code from their build machine to this interpreter's, so
# colcon + rosidl can build message packages. Idempotent.
# Usage: ros/setup_wheels.sh VENV
set -euo pipefail
venv=${1:?usage: $0 VENV}
py="$venv/bin/python"
pyinc=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
npinc=$("$py" -c "import numpy; print(numpy.get_include())")
# grep exits 1 when a previous run already rewrote every file: that is success, not an error.
{ grep -rl /opt/python/cp311-cp311/ "$venv/share" --include='*.cmake' || true; } | xargs -r sed -i \
  -e "s#/opt/python/cp311-cp311/include/python3.11#$pyinc#g" \
  -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$npinc#g"
