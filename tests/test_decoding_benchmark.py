"""benchmarks/decoding.py as a user runs it: its own process, the backend chosen by --backend."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import BACKEND

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "decoding.py"


def test_tiny_decoding_benchmark_agrees_and_reports_its_line():
    # Without KERAS_BACKEND: the benchmark must pick the backend before anything imports keras.
    environment = {name: value for name, value in os.environ.items() if name != "KERAS_BACKEND"}
    finished = subprocess.run(
        [sys.executable, str(BENCHMARK), "--backend", BACKEND, "--batch-size", "2", "--tokens",
         "4", "--source-length", "3", "--dim", "8", "--heads", "2", "--blocks", "1", "--vocab",
         "20", "--beam-size", "2", "--steps", "1", "--json"],
        capture_output=True, text=True, env=environment, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    line = json.loads(finished.stdout.strip().splitlines()[-1])
    assert line["backend"] == BACKEND
    for kind in ("greedy", "beam"):
        assert line[kind]["tokens_agree"] == 1.0  # cached steps decode as the whole prefix
        assert line[kind]["cached_ms"] > 0 and line[kind]["prefix_ms"] > 0
    assert line["peak_memory_mb"] > 0
