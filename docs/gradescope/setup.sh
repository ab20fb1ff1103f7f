#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
#
# It installs Python (3.11 or later) and backprop-check into /autograder/venv, from the
# wheel uploaded with this script (backprop_check-*.whl) or, without one, from the
# pinned requirement in requirements.txt. See docs/gradescope.md.
set -euo pipefail

root=${AUTOGRADER_ROOT:-/autograder}
source_dir=$root/source
venv=$root/venv

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap is the sandbox each submission runs in: without it the checker refuses to
# grade (exit status 3) rather than run a student's code unisolated.
apt-get install -y -qq python3 python3-venv bubblewrap coreutils >/dev/null
python=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu 22.04's python3 is 3.10; its universe has 3.11.
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    python=python3.11
fi

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
shopt -s nullglob
wheels=("$source_dir"/backprop_check-*.whl)
if [ ${#wheels[@]} -gt 1 ]; then
    echo "setup.sh: upload one backprop_check wheel, not ${#wheels[@]}: ${wheels[*]}" >&2
    exit 1
elif [ ${#wheels[@]} -eq 1 ]; then
    "$venv/bin/python" -m pip install --quiet "${wheels[0]}"
else
    "$venv/bin/python" -m pip install --quiet -r "$source_dir/requirements.txt"
fi

# The submission runs as a uid of its own, which needs to read this Python and numpy.
chmod -R a+rX "$venv"
chmod a+x "$root"
# Fail the build now rather than at the first submission.
"$venv/bin/backprop-check" --help >/dev/null
echo "setup.sh: $("$venv/bin/python" --version), backprop-check installed in $venv"
