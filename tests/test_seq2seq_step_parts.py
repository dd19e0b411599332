"""benchmarks/seq2seq_step_parts.py at a tiny size (TensorFlow: its parts are timed with
tf.GradientTape)."""

import importlib.util
from pathlib import Path

import pytest

from helpers import BACKEND

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "seq2seq_step_parts.py"

pytestmark = pytest.mark.skipif(BACKEND != "tensorflow",
                                reason="the benchmark times TensorFlow graphs; tensorflow pass")


def test_tiny_profile_times_the_step_and_each_part():
    spec = importlib.util.spec_from_file_location("seq2seq_step_parts", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    line = module.main(["--batch-size", "4", "--length", "8", "--vocabulary-size", "50",
                        "--embed-dim", "8", "--units", "16", "--steps", "2", "--json"])
    assert line["parameters"] > 0 and line["train_step_ms"] > 0 and line["train_step_jit_ms"] > 0
    assert set(line["parts_ms"]) == {"output_layer_and_loss", "decoder", "encoder"}
    assert all(ms > 0 for ms in line["parts_ms"].values())
