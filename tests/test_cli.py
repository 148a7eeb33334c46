"""The command line: help, unknown options and unknown class names exit 2, class selection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnparity.cli import UsageProblem, main, resolve_classes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", ["report", "gate", "bench", "list"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and ("-k" in out or command == "list")


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", "--no-such-option"])
    assert e.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_unknown_command_exits_2():
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


@pytest.mark.parametrize("command", ["report", "gate", "bench", "list"])
def test_unknown_class_exits_2_before_any_work(command, tmp_path, capsys):
    code = main([command, "-k", "NoSuchLayer", "--out", str(tmp_path)] if command != "list" else [command, "-k", "NoSuchLayer"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown class name 'NoSuchLayer'" in err
    assert not (tmp_path / "records").exists()


def test_class_selection():
    assert resolve_classes(None) is None
    assert resolve_classes(["ReLU"]) == ["ReLU"]  # exact
    assert "MSELoss" in resolve_classes(["loss"]) and "L1Loss" in resolve_classes(["loss"])  # substring, any case
    assert resolve_classes(["ReLU,Tanh", "ReLU"]) == ["ReLU", "Tanh"]  # comma-separated, repeatable, deduplicated
    with pytest.raises(UsageProblem, match="did you mean ReLU"):
        resolve_classes(["Relux"])


def test_torch_class_without_entry_is_named(capsys):
    import torch.nn
    from properties.catalog import CATALOG

    missing = next(n for n in dir(torch.nn) if isinstance(getattr(torch.nn, n), type) and n not in CATALOG
                   and not any(n.lower() in c.lower() for c in CATALOG))
    assert main(["list", "-k", missing]) == 2
    assert "no catalog entry" in capsys.readouterr().err


def test_list(capsys):
    assert main(["list", "-k", "ReLU"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ReLU") and "forward" in out and "randomness" not in out.splitlines()[0]


def test_module_entry_point_exit_codes(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-m", "nnparity", "gate", "-k", "Nope"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "unknown class name 'Nope'" in res.stderr
    res = subprocess.run([sys.executable, "-m", "nnparity"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2 and "usage:" in res.stderr


def test_cuda_requested_but_absent_exits_2(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is present here")
    assert main(["report", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not (tmp_path / "records").exists()
