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
# XLA (JAX, and TensorFlow's jit_compile) compiles every small test program in about a third of
# the time without LLVM's optimizations (measured: a tiny sentiment recipe run on JAX, 72 s ->
# 41 s, its 33 compilations 36 s -> 11 s); the tests check results, not speed, and the
# benchmarks run with the default flags. Inherited by the subprocesses tests start; a level
# given in XLA_FLAGS is kept (XLA_FLAGS=--xla_backend_optimization_level=3: XLA's default).
if "--xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (f"{os.environ.get('XLA_FLAGS', '')} "
                               "--xla_backend_optimization_level=0").strip()

# Under pytest-xdist each torch worker gets its share of the cores for OpenMP (torch's
# intra-op pool): two workers whose pools each spin on every core slowed torch's small-step
# tests about 9x (the reversal-learning seq2seq: 10 s alone, 91 s in a 2-worker pass; the
# torch pass took 605 s, and 405 s with one thread a worker on 2 cores). Not on TensorFlow:
# its pass took 750 s, and 960 s with one OpenMP thread a worker.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ and os.environ.get("KERAS_BACKEND") == "torch":
    os.environ.setdefault("OMP_NUM_THREADS", str(max(
        1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_sessionfinish(session, exitstatus):
    if JAX_CACHE:
        shutil.rmtree(JAX_CACHE, ignore_errors=True)
