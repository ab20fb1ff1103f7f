"""What a student reads: log guards, cascades, fixed depths, notebooks that keep going,
files that do not follow the contract, and the snippet that pastes (issue 12)."""

from __future__ import annotations

import code
import contextlib
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np

from checks.cli import main
from checks.formats import to_text
from checks.grader.config import Config, ConfigError
from checks.grader.judge._message import SNIPPET_END, SNIPPET_START
from tests.grader.test_grade import SOLUTION, grade, submission, verdicts

GUARDED = {
    "loss": """
        def loss(y_hat, y):
            m = y.shape[1]
            return -np.sum(y * np.log(y_hat + 1e-7) + (1 - y) * np.log(1 - y_hat + 1e-7)) / m
    """,
    "dL_dyhat": """
        def dL_dyhat(y_hat, y):
            return ((1 - y) / (1 - y_hat) - y / (y_hat + 1e-8)) / y.shape[1]
    """,
}


def test_a_log_guard_passes_with_a_note_naming_its_epsilon(tmp_path: Path) -> None:
    report = grade(submission(tmp_path, **GUARDED))
    assert set(verdicts(report).values()) == {"pass"}
    functions = report["functions"]
    assert "ε = 1e-07 inside both logarithms" in functions["loss"]["message"]
    assert "ε = 1e-08 to the denominator y/(ŷ + ε)" in functions["dL_dyhat"]["message"]
    # dL_daL and backward go through the guarded dL_dyhat: the same guard, the same note
    assert "ε = 1e-08" in functions["backward"]["message"]


def test_a_log_guard_fails_when_the_configuration_is_strict(tmp_path: Path) -> None:
    report = grade(submission(tmp_path, **GUARDED), Config(examples=4, log_epsilon="strict"))
    for fid in ("loss", "dL_dyhat", "dL_daL", "backward"):
        result = report["functions"][fid]
        assert result["verdict"] == "fail", fid
        assert result["diagnosis"] == ["log-epsilon"], fid
    assert "derivation itself" not in report["functions"]["dL_dyhat"]["message"]


# --- cascades ------------------------------------------------------------------------

ROWS_SOFTMAX = """
    def softmax(a):
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
"""
SUMMED_DYHAT = """
    def dL_dyhat(y_hat, y):
        return (1 - y) / (1 - y_hat) - y / y_hat
"""


def test_a_cascade_is_blamed_on_the_component_that_fails(tmp_path: Path) -> None:
    report = grade(submission(tmp_path, softmax=ROWS_SOFTMAX, dL_dyhat=SUMMED_DYHAT))
    functions = report["functions"]
    backward = functions["backward"]
    assert backward["diagnosis"][0] == "cascade"
    assert (
        "`backward` fails because `softmax` and `dL_dyhat` do: fix those first"
        in (backward["message"])
    )
    assert "derivation itself" not in backward["message"]
    assert functions["dL_daL"]["diagnosis"][0] == "cascade"
    assert "`forward` fails because `softmax` does" in functions["forward"]["message"]
    # the components themselves get their own diagnoses, not a cascade
    assert functions["softmax"]["diagnosis"] == ["wrong-axis"]
    assert "factor-m" in functions["dL_dyhat"]["diagnosis"]


# --- what the student sees -----------------------------------------------------------


def test_expected_and_got_are_shown_aligned_and_the_snippet_pastes_at_the_prompt(
    tmp_path: Path,
) -> None:
    path = submission(tmp_path, softmax=ROWS_SOFTMAX)
    report = grade(path)
    message = report["functions"]["softmax"]["message"]
    expected = next(line for line in message.splitlines() if "expected " in line)
    got = message.splitlines()[message.splitlines().index(expected) + 1]
    assert expected.index("expected") + 9 == got.index("got") + 9  # one column for both
    assert len(expected) == len(got)  # entry under entry
    text = to_text(report, color=False)
    lines = text.splitlines()
    start, end = lines.index(SNIPPET_START), lines.index(SNIPPET_END)
    console = code.InteractiveConsole()
    errors = io.StringIO()
    sys.path.insert(0, str(tmp_path))
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            for line in lines[start : end + 1]:  # typed at the prompt, line by line
                console.push(line)
            console.push("")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("student", None)
    assert errors.getvalue() == ""
    assert np.shape(console.locals["got"]) == np.shape(console.locals["expected"])


def test_an_error_shows_the_argument_shapes_a_snippet_and_the_contract_signature(
    tmp_path: Path,
) -> None:
    wrong_signature = """
        def forward(X, W1, b1, W2, b2):
            return softmax(relu(W2 @ relu(W1 @ X + b1) + b2))
    """
    template = """
        def relu_mask(z):
            raise NotImplementedError
    """
    report = grade(submission(tmp_path, forward=wrong_signature, relu_mask=template))
    forward = report["functions"]["forward"]
    assert forward["verdict"] == "error"
    assert "`params` = [" in forward["message"]
    assert "The contract's signature is `forward(params, X)`" in forward["message"]
    assert SNIPPET_START in forward["message"]
    relu_mask = report["functions"]["relu_mask"]
    assert (
        relu_mask["message"]
        == "`relu_mask` is not implemented yet (it raises NotImplementedError)."
    )


def test_close_names_and_the_names_setting_are_suggested(tmp_path: Path) -> None:
    source = tmp_path / "student.py"
    source.write_text(SOLUTION.replace("def relu(", "def ReLU(").replace("relu(W", "ReLU(W"))
    message = grade(source)["functions"]["relu"]["message"]
    assert "your file defines `ReLU`" in message
    assert '`[names]` `relu = "ReLU"`' in message


def test_a_notebook_magic_in_a_py_file_is_named_and_the_load_error_said_once(
    tmp_path: Path,
) -> None:
    source = tmp_path / "student.py"
    source.write_text("import numpy as np\n%matplotlib inline\n" + SOLUTION)
    report = grade(source)
    messages = [r["message"] for r in report["functions"].values()]
    assert "line 2, `%matplotlib inline`, is a notebook magic" in messages[0].replace(
        "Line", "line"
    )
    assert sum("SyntaxError" in m for m in messages) == 1
    assert all(r["verdict"] == "error" for r in report["functions"].values())


# --- notebooks keep going --------------------------------------------------------------


def test_a_notebook_keeps_going_past_a_failing_cell_and_says_what_it_cost(
    tmp_path: Path,
) -> None:
    head, *functions = SOLUTION.split("\n\n\ndef ")
    code = [head] + ["def " + f for f in functions if not f.startswith("dL_da(")]
    cells: list[dict[str, object]] = [{"cell_type": "markdown", "source": "# Backprop"}]
    cells += [{"cell_type": "code", "source": c} for c in code]
    cells.insert(2, {"cell_type": "code", "source": "import matplotlib.pyplot as plt\n"})
    own_check = "assert relu(-1.0) == 1.0, 'my check'\ndef dL_da(W_next, dL_dz_next):\n"
    cells.insert(
        4, {"cell_type": "code", "source": own_check + "    return W_next.T @ dL_dz_next\n"}
    )
    notebook = tmp_path / "student.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    report = grade(notebook)
    v = verdicts(report)
    assert v["dL_da"] == "missing"
    assert (
        "cell 5, line 1, which defines it, failed (AssertionError: my check)"
        in (report["functions"]["dL_da"]["message"])
    )
    first = report["functions"]["relu"]["message"]
    assert "cell 3, line 1: ModuleNotFoundError" in first
    # backward calls dL_da, which is missing: an error; everything else was graded
    assert {f for f, x in v.items() if x != "pass"} == {"dL_da", "backward"}


# --- beyond the first failure; fixed architectures -------------------------------------

SUMMED_AND_UPDATED_FIRST = """
    def backward(params, X, Y):
        m = X.shape[1]
        a, zs = [X], []
        for W, b in params:
            zs.append(W @ a[-1] + b)
            a.append(relu(zs[-1]))
        da = dL_daL(softmax(a[-1]), Y) * m
        grads, weights = [], [W.copy() for W, _ in params]
        for l in range(len(params), 0, -1):
            dz = dL_dz(da, zs[l - 1])
            dW = dL_dW(dz, a[l - 1])
            grads.append((dW, dL_db(dz)))
            weights[l - 1] -= 0.1 * dW  # updated before the error goes back through it
            da = dL_da(weights[l - 1], dz)
        return grads[::-1]
"""
TWO_LAYERS_ONLY = """
    def forward(params, X):
        (W1, b1), (W2, b2) = params
        return softmax(relu(W2 @ relu(W1 @ X + b1) + b2))
"""


def test_a_second_bug_that_needs_two_layers_is_reported_with_its_own_case(
    tmp_path: Path,
) -> None:
    result = grade(submission(tmp_path, backward=SUMMED_AND_UPDATED_FIRST))["functions"]
    backward = result["backward"]
    assert backward["diagnosis"][0] == "factor-m"
    first, second = backward["message"].split("A second failure, which needs two layers")
    assert "(1 layer(s)" in first
    assert "(2 layer(s)" in second and SNIPPET_START in second


def test_a_fixed_depth_is_named_and_the_configuration_grades_on_it(tmp_path: Path) -> None:
    path = submission(tmp_path, forward=TWO_LAYERS_ONLY)
    forward = grade(path)["functions"]["forward"]
    assert forward["verdict"] == "error"
    assert "ran on networks of 2 layer(s) but raised on 1, 3" in forward["message"]
    assert "`depths = [2]`" in forward["message"]
    fixed = grade(path, Config(examples=4, depths=(2,)))
    assert set(verdicts(fixed).values()) == {"pass"}


def test_the_new_configuration_keys_are_checked(tmp_path: Path) -> None:
    config = Config.from_mapping({"log_epsilon": "strict", "depths": [3, 2]})
    assert config.log_epsilon == "strict" and config.depths == (2, 3)
    for bad, key in (({"log_epsilon": "yes"}, "`log_epsilon`"), ({"depths": [0]}, "`depths`")):
        try:
            Config.from_mapping(bad)
        except ConfigError as error:
            assert key in str(error)
        else:
            raise AssertionError(bad)


def test_the_message_names_the_line_to_change(tmp_path: Path) -> None:
    path = submission(tmp_path, softmax=ROWS_SOFTMAX, **GUARDED)
    lines = path.read_text().splitlines()
    functions = grade(path)["functions"]
    axis = next(i for i, line in enumerate(lines, 1) if "axis=1" in line)
    assert f"Look at line {axis}, in `softmax` (the axis)" in functions["softmax"]["message"]
    guard = next(i for i, line in enumerate(lines, 1) if "1e-8" in line)
    assert (
        f"Look at line {guard}, in `dL_dyhat` (the ε = 1e-08)" in (functions["dL_dyhat"]["message"])
    )
    # backward fails through the softmax it calls (its guarded dL_dyhat taken as it is)
    assert functions["backward"]["diagnosis"] == ["cascade"]
    in_backward = next(i for i, line in enumerate(lines, 1) if "softmax(a[-1])" in line)
    assert f"Look at line {in_backward}, in `backward`" in functions["backward"]["message"]
    call = next(i for i, line in enumerate(lines, 1) if "return softmax(a)" in line)
    assert f"Look at line {call}, in `forward`" in functions["forward"]["message"]


def test_output_writes_each_snippet_as_a_repro_file_that_runs(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    submission(folder, name="alice", softmax=ROWS_SOFTMAX)
    out = tmp_path / "out"
    assert main([str(folder), "--examples", "4", "--output", str(out)]) == 1
    repro = out / "repro" / "alice.py" / "repro_softmax.py"
    run = subprocess.run(
        [sys.executable, str(repro)], cwd=folder, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("(")  # the shape of what it returned, then the error
    assert not (out / "repro" / "alice.py" / "repro_relu.py").exists()  # relu passes


DOCS = Path(__file__).resolve().parents[2] / "docs"
QUICK = "python bench/feedback.py --examples 4 --only a06_loss_epsilon a24_two_bugs_depth2"


def test_the_quick_bench_command_of_the_docs_runs_as_written() -> None:
    assert f"    {QUICK}\n" in (DOCS / "feedback.md").read_text(encoding="utf-8")
    repo = DOCS.parent
    argv = [sys.executable, *QUICK.split()[1:]]
    run = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "verdicts   2 / 2 right" in run.stdout
    assert "diagnosis  2 / 2 right" in run.stdout


def test_the_configuration_example_of_the_docs_loads() -> None:
    text = (DOCS / "grading.md").read_text(encoding="utf-8")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    config = Config.from_mapping(tomllib.loads(block))
    assert config.log_epsilon == "note" and config.depths == (1, 2, 3)
