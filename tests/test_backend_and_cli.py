import json

import keras
import pytest

from attention_zoo import backend, cli
from helpers import BACKEND


def test_use_rejects_unknown_backend_listing_valid_ones():
    with pytest.raises(ValueError, match=r"one of \['tensorflow', 'jax', 'torch'\], received 'mxnet'"):
        backend.use("mxnet")


def test_use_refuses_to_switch_after_keras_is_imported():
    other = next(name for name in backend.BACKENDS if name != BACKEND)
    with pytest.raises(RuntimeError, match=f"already imported with backend '{BACKEND}'"):
        backend.use(other)
    backend.use(BACKEND)  # the active one is fine
    assert backend.active() == keras.backend.backend()


def test_info_reports_versions_and_devices(capsys):
    cli.main(["info", "--json"])
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["keras"] == keras.__version__
    assert info["active_backend"] == BACKEND
    assert BACKEND in info["backends"]
    for entry in info["backends"].values():
        assert entry["version"] and entry["devices"]


def test_compare_takes_its_own_flags_and_other_commands_reject_unknown_ones(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["compare", "--help"])
    assert exit.value.code == 0
    assert "--workloads" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit:
        cli.main(["info", "--workloads", "layers"])
    assert exit.value.code == 2
    assert "unrecognized arguments: --workloads layers" in capsys.readouterr().err


def _accelerator_kinds():
    """The accelerator kinds the active backend sees, asked of the backend itself (keras.distribution
    has no device list on torch)."""
    import keras

    if keras.config.backend() == "torch":
        import torch

        return {"GPU"} if torch.cuda.is_available() else set()
    devices = {device.split(":")[0].upper() for device in keras.distribution.list_devices()}
    return {"GPU" if kind == "CUDA" else kind for kind in devices - {"CPU"}}


def test_peak_memory_is_measured_on_whatever_device_runs():
    megabytes, kind = backend.peak_memory_mb()
    expected = _accelerator_kinds() or {"process RSS"}
    assert megabytes > 50 and kind in expected, (kind, expected)
