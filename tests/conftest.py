"""Shared fixtures. The suite runs once per KERAS_BACKEND, each in its own pytest run (`make
test`: two pytest-xdist worker processes)."""

import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# JAX compiles the same step functions again in every recipe subprocess a test starts; one
# persistent compilation cache per test session (inherited by those subprocesses and by xdist's
# workers) reuses them. The process that made it removes it.
JAX_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    JAX_CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="jax-cache-")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_sessionfinish(session, exitstatus):
    if JAX_CACHE:
        shutil.rmtree(JAX_CACHE, ignore_errors=True)
