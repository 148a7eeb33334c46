"""The gate: allowlist parsing (errors name the line), matching, stale entries, JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nnparity.allowlist import AllowlistError, parse_allowlist
from nnparity.cli import main
from nnparity.gate import judge, run_gate

from . import _synthetic

ALL = """
[[allow]]
class = "ReLU"
check = "forward"
dtype = "float32"
device = "*"
reason = "r1"
link = "https://example.org/1"

[[allow]]
class = "Tanh"
check = "*"
dtype = "*"
device = "cpu"
reason = "r2"
link = "https://example.org/2"

[[allow]]
class = "Linear"
check = "gradients"
dtype = "*"
device = "*"
reason = "r3"
link = "https://example.org/3"
"""


def entry(cls, check, dtype="*", device="*", **extra):
    lines = [f'class = "{cls}"', f'check = "{check}"', f'dtype = "{dtype}"', f'device = "{device}"',
             'reason = "why"', 'link = "https://example.org/x"'] + [f'{k} = "{v}"' for k, v in extra.items()]
    return "[[allow]]\n" + "\n".join(lines) + "\n"


def test_every_discrepancy_allowlisted_passes():
    result = judge(_synthetic.records(), parse_allowlist(ALL))
    assert result.ok and not result.unallowed and len(result.allowed) == 3 and not result.stale


def test_unlisted_discrepancies_fail_worst_first():
    result = judge(_synthetic.records(), [])
    assert not result.ok
    assert [(r.entry, r.check) for r in result.unallowed] == [("Linear", "gradients"), ("ReLU", "forward"),
                                                              ("Tanh", "forward")]


def test_scope_is_respected():
    # ReLU forward fails in float32 only; an entry for float64 does not cover it, and is stale (float64 ran clean)
    allow = parse_allowlist(ALL.replace('dtype = "float32"', 'dtype = "float64"', 1))
    result = judge(_synthetic.records(), allow)
    assert [(r.entry, r.dtype) for r in result.unallowed] == [("ReLU", "float32")]
    assert [e.cls for e in result.stale] == ["ReLU"]


def test_stale_entry_fails_and_unrun_entry_does_not():
    stale = entry("Sigmoid", "gradients")  # ran and passed: the excused discrepancy no longer occurs
    unrun = entry("Conv2d", "forward")  # did not run here: cannot tell
    allow = parse_allowlist(ALL + "\n" + stale + "\n" + unrun)
    result = judge(_synthetic.records(), allow)
    assert not result.ok
    assert [(e.cls, e.line) for e in result.stale] == [("Sigmoid", ALL.count("\n") + 2)]
    assert [e.cls for e in result.unverified] == ["Conv2d"]
    assert "STALE" in result.summary() and "Sigmoid gradients" in result.summary()


def test_no_records_fails():
    assert not judge([], []).ok


@pytest.mark.parametrize("text, line, words", [
    (entry("ReLU", "forward").replace('link = "https://example.org/x"\n', ""), 1, "lacks 'link'"),
    ("# header\n\n" + entry("ReLU", "forwards"), 5, "check 'forwards'"),
    (entry("ReLU", "forward") + "\n" + entry("Relu", "forward"), 10, "class 'Relu' is not a torch.nn class"),
    (entry("ReLU", "forward", dtype="float16"), 4, "dtype 'float16'"),
    (entry("ReLU", "forward", colour="red"), 8, "unknown key 'colour'"),
    (entry("ReLU", "forward").replace('reason = "why"', 'reason = ""'), 6, "'reason' must be a non-empty string"),
    ('[[allow]]\nclass = "ReLU\ncheck = "forward"\n', 2, "not valid TOML"),
    ('[allowed]\nclass = "ReLU"\n', 1, "unknown top-level key 'allowed'"),
])
def test_malformed_allowlist_names_the_line(text, line, words):
    with pytest.raises(AllowlistError) as err:
        parse_allowlist(text, "allowlist.toml")
    assert f"allowlist.toml:{line}:" in str(err.value) and words in str(err.value), str(err.value)


def test_malformed_allowlist_exits_2_from_the_command_line(tmp_path, capsys):
    records = _synthetic.write(tmp_path / "records")
    bad = tmp_path / "allow.toml"
    bad.write_text(entry("ReLU", "forward") + "\n[[allow]]\nclass = \"Tanh\"\n")
    code = main(["gate", "--records", str(records), "--allowlist", str(bad), "--out", str(tmp_path)])
    assert code == 2
    assert f"{bad}:9: entry #2" in capsys.readouterr().err


def test_gate_command_and_junit(tmp_path, capsys):
    records = _synthetic.write(tmp_path / "records")
    good = tmp_path / "allow.toml"
    good.write_text(ALL)
    assert main(["gate", "--records", str(records), "--allowlist", str(good), "--out", str(tmp_path)]) == 0
    assert "PASS" in capsys.readouterr().out
    good.write_text(ALL + "\n" + entry("Sigmoid", "gradients"))
    junit = tmp_path / "g.xml"
    assert main(["gate", "--records", str(records), "--allowlist", str(good), "--junit", str(junit)]) == 1
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and int(suite.get("failures")) == 1  # the stale entry
    assert int(suite.get("skipped")) >= 3  # allowlisted discrepancies (and skips)
    names = [tc.get("name") for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert names and "Sigmoid gradients" in names[0]


def test_run_gate_without_allowlist(tmp_path):
    records = _synthetic.write(tmp_path / "records")
    result = run_gate(records, [], tmp_path / "j.xml")
    assert not result.ok and len(result.unallowed) == 3
    suite = ET.parse(tmp_path / "j.xml").getroot()
    assert int(suite.get("failures")) + int(suite.get("errors")) == 3


def test_harness_errors_and_unjudged_checks_cannot_be_allowlisted():
    recs = [_synthetic.rec("ReLU", "forward", "error", message="torch rejected a drawn case"),
            _synthetic.rec("Tanh", "gradcheck", "not-judged", message="nothing judged")]
    allow = parse_allowlist(entry("ReLU", "*") + "\n" + entry("Tanh", "*"))
    result = judge(recs, allow)
    assert not result.ok and [r.verdict for r in result.unallowed] == ["error", "not-judged"]


@pytest.mark.parametrize("meta, words", [
    ({"state": "running"}, "did not finish"),
    ({"pytest_exit_code": 5}, "collected no tests"),
    ({"pytest_exit_code": 2}, "did not complete"),
])
def test_an_incomplete_run_fails_the_gate_even_when_everything_is_allowlisted(tmp_path, meta, words):
    records = _synthetic.write(tmp_path / "records", meta=meta)
    result = run_gate(records, parse_allowlist(ALL), tmp_path / "j.xml")
    assert not result.ok and any(words in p for p in result.problems), result.problems
