"""--impl points the whole suite at another package that implements the contract."""

from __future__ import annotations

import pytest

from tests.suite_runner import ROOT, run_suite

FIXTURES = ROOT / "tests" / "fixtures"

pytestmark = pytest.mark.slow


def test_a_foreign_package_with_a_wrong_twin_is_flagged():
    result = run_suite("properties/test_forward.py", "properties/test_gradients.py", "--impl", "leaky_relu_nn",
                       "--nn", "ReLU,Sigmoid", pythonpath=[FIXTURES])
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "ReLU forward: the twin disagrees with torch.nn.ReLU" in out, out
    assert "ReLU gradients: the twin disagrees with torch.nn.ReLU" in out, out
    # Sigmoid is missing from the foreign package: skipped as not implemented, not failed.
    assert "not implemented by leaky_relu_nn: Sigmoid" in out, out
    assert "FAILED properties/test_forward.py::test_forward[Sigmoid" not in out, out


def test_an_unimportable_package_is_a_usage_error():
    result = run_suite("properties/test_forward.py", "--impl", "no_such_package_here")
    assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage-error exit code
    assert "cannot import the implementation package 'no_such_package_here'" in result.stderr + result.stdout


def test_an_unknown_class_name_is_a_usage_error():
    result = run_suite("properties/test_forward.py", "--nn", "ReLu")
    assert result.returncode == 4
    assert "--nn: unknown class name(s) ReLu" in result.stderr + result.stdout
