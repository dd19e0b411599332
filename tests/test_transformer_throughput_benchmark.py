"""benchmarks/transformer_throughput.py as a user runs it: its own process, a dtype policy."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import BACKEND

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "transformer_throughput.py"


def test_tiny_throughput_benchmark_trains_both_models_under_the_dtype_policy():
    environment = {name: value for name, value in os.environ.items() if name != "KERAS_BACKEND"}
    finished = subprocess.run(
        [sys.executable, str(BENCHMARK), "--backend", BACKEND, "--batch-size", "4",
         "--sequence-length", "8", "--vocab", "40", "--embed-dim", "8", "--num-heads", "2",
         "--intermediate-dim", "16", "--num-blocks", "1", "--steps", "2",
         "--dtype-policy", "mixed_bfloat16", "--json"],
        capture_output=True, text=True, env=environment, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    line = json.loads(finished.stdout.strip().splitlines()[-1])
    assert line["backend"] == BACKEND and line["config"]["dtype_policy"] == "mixed_bfloat16"
    assert line["compute_dtype"] == "bfloat16"
    assert line["ours_tokens_per_second"] > 0 and line["keras_io_tokens_per_second"] > 0
