#!/bin/sh
# The image's build steps, kept in one script so a test can run them without a container engine.
#   docker/build.sh deps LOCK VENV     a fresh virtualenv with every dependency of the lock file,
#                                      hashes required (requirements/runtime.txt)
#   docker/build.sh project SRC VENV   jobimport itself into it (no dependencies: the lock has them,
#                                      setuptools included: no build isolation), a smoke test, then
#                                      pip and setuptools removed: the image runs the virtualenv,
#                                      it never installs into it
# The Dockerfile runs both in its build stage and copies the virtualenv alone into the runtime stage.
set -eu

step=${1:?usage: build.sh deps LOCK VENV | project SRC VENV}
pip_flags="--quiet --disable-pip-version-check --no-cache-dir"
case "$step" in
deps)
    lock=${2:?lock file}
    venv=${3:?venv dir}
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install $pip_flags --require-hashes -r "$lock"
    ;;
project)
    src=${2:?source dir}
    venv=${3:?venv dir}
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install $pip_flags --no-deps --no-build-isolation "$src"
    "$venv/bin/python" -m pip check
    # Smoke test inside the build: the entry point starts and the templates are packaged.
    "$venv/bin/jobimport" --version
    "$venv/bin/python" -c "import importlib.resources as r; \
assert r.files('jobimport').joinpath('samples').is_dir(), 'package data missing'"
    "$venv/bin/python" -m pip uninstall --quiet --yes pip setuptools
    ;;
*)
    echo "unknown step: $step" >&2
    exit 2
    ;;
esac
