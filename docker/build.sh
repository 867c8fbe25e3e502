#!/bin/sh
# The image's build steps, kept in one script so CI can run them without a Docker engine.
#   docker/build.sh wheels SRC_DIR WHEEL_DIR  build jobimport's wheel and every dependency's wheel
#   docker/build.sh install WHEEL_DIR VENV    install them into a fresh virtualenv, offline
# The Dockerfile runs `wheels` in its build stage and `install` in the slim runtime stage.
set -eu

step=${1:?usage: build.sh wheels SRC OUT | install WHEELS VENV}
case "$step" in
wheels)
    src=${2:?source dir}
    out=${3:?wheel dir}
    mkdir -p "$out"
    python3 -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$out" "$src"
    ls "$out"/jobimport-*.whl >/dev/null
    ;;
install)
    wheels=${2:?wheel dir}
    venv=${3:?venv dir}
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-index \
        --find-links "$wheels" jobimport
    # Smoke test inside the build: the entry point starts and the templates are packaged.
    "$venv/bin/jobimport" --version
    "$venv/bin/python" -c "import importlib.resources as r; \
assert r.files('jobimport').joinpath('samples').is_dir(), 'package data missing'"
    ;;
*)
    echo "unknown step: $step" >&2
    exit 2
    ;;
esac
