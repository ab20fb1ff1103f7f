"""`checks.notebook`: the grader's judgement of functions defined in the student's kernel."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop import CONTRACT
from checks.grader import Config, ConfigError, grade_submission
from checks.notebook import Result, check, check_all, configure
from checks.notebook._check import points
from tests.formats._dom import parse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_PAYLOAD = "<script>alert(1)</script>\x1b[2J\u202e"


def relu(z: Any) -> Any:
    return np.maximum(z, 0.0)


def dL_db(dL_dz: Any) -> Any:
    return dL_dz.sum(axis=1)  # the notes as written: erratum E4, shape (n,)


def softmax(a: Any) -> Any:
    raise ValueError(_PAYLOAD)


def relu_mask(z: Any) -> Any:
    z[z <= 0] = 0.0  # changes its argument
    return (z > 0).astype(float)


def decide(a: Any) -> Any:
    print("deciding", a.shape)
    return None  # a missing return


def test_a_right_function_passes_with_its_points() -> None:
    result = check(relu)
    assert isinstance(result, Result)
    assert result.passed and result.verdict == "pass"
    assert (result.function, result.name, result.points, result.max_points) == (
        "relu", "relu", 1.0, 1.0,
    )  # fmt: skip
    assert result.diagnoses == () and result.expected is None and result.reproduction == ""
    assert str(result).startswith("PASS  relu: 1 / 1 point")


def test_a_wrong_function_is_a_result_with_expected_got_diagnosis_and_reproduction() -> None:
    result = check(dL_db)
    assert not result.passed and result.verdict == "fail" and result.points == 0.0
    assert result.diagnoses == ("bias-shape",)
    assert np.shape(result.got) == np.shape(result.expected)[:1]
    assert np.allclose(np.ravel(result.got), np.ravel(result.expected))
    assert "is wrong on the smallest case found" in result.message
    # The reproduction runs in a cell where the function is defined, and shows the bug.
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        exec(result.reproduction, {"dL_db": dL_db})
    assert shown.getvalue().startswith(f"{np.shape(result.got)} ")


def test_a_raising_function_is_an_error_result_not_an_exception() -> None:
    result = check(softmax)
    assert result.verdict == "error" and not result.passed
    # the grader's error message: the arguments' shapes, the student's error and traceback
    assert result.message.startswith("`softmax` raised an error when called with `a` of shape")
    assert "ValueError: <script>" in result.message
    assert "in softmax" in result.message


def test_a_missing_function_is_missing_by_name() -> None:
    result = check("forward")
    assert result.verdict == "missing" and result.points == 0.0
    assert "`forward` is not defined" in result.message


def test_an_argument_changed_in_place_fails_and_leaves_the_test_points_as_drawn() -> None:
    config = Config()
    before = [p.X.copy() for p in points(config, 0)]
    result = check(relu_mask)
    assert result.verdict == "fail" and result.diagnoses == ("mutates-input",)
    assert all(np.array_equal(p.X, x) for p, x in zip(points(config, 0), before, strict=True))
    assert check(relu).passed  # the same points, still right


def test_none_returned_says_so_and_printed_output_is_kept_not_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = check(decide)
    assert result.verdict == "error"
    assert "the result is `None` (a missing `return`?)" in result.message
    assert "deciding (" in result.output
    assert "deciding" not in capsys.readouterr().out


def test_the_points_are_drawn_once_per_kernel() -> None:
    config = Config(loss="categorical", examples=3)
    assert points(config, 7) is points(config, 7)
    assert len(points(config, 7)) == 3 and points(config, 8) is not points(config, 7)


def test_a_function_under_another_name_is_found_by_binding_or_by_argument() -> None:
    namespace: dict[str, Any] = {}
    exec("import numpy as np\nrelu = lambda z: np.maximum(z, 0.0)", namespace)
    assert check(namespace["relu"]).passed  # a lambda bound to the contract's name
    assert check(lambda z: np.maximum(z, 0.0), name="relu").passed
    with pytest.raises(ValueError, match=r"`name` 'my_relu' is not a function of the contract"):
        check(lambda z: z, name="my_relu")
    with pytest.raises(TypeError, match=r"`function` must be a function"):
        check(42)  # type: ignore[arg-type]


def test_the_configuration_comes_from_arguments_or_the_instructors_toml(tmp_path: Path) -> None:
    def dL_daL(y_hat: Any, y: Any) -> Any:  # the categorical shortcut
        return (y_hat - y) / y.shape[1]

    assert check(dL_daL).verdict == "fail"  # the notes' loss, by default
    assert check(dL_daL, config={"loss": "categorical"}).passed
    toml = tmp_path / "grading.toml"
    toml.write_text(
        'loss = "categorical"\nhidden = ["dL_db"]\n[names]\ndL_daL = "grad_a"\n[points]\n'
        "dL_daL = 3.0\n"
    )
    grad_a = dL_daL
    result = check(grad_a, config=toml)
    assert (result.passed, result.name, result.function, result.points) == (
        True, "grad_a", "dL_daL", 3.0,
    )  # fmt: skip
    try:
        configure(toml)
        hidden = check(dL_db)
        assert hidden.verdict == "fail" and hidden.hidden
        assert hidden.message == "" and hidden.diagnoses == () and hidden.got is None
        assert "hidden by your course" in hidden.html()
    finally:
        configure()
    assert not check(dL_db).hidden
    with pytest.raises(ConfigError, match=r"`loss`"):
        check(relu, config={"loss": "squared"})


def test_the_html_escapes_what_the_student_controls_and_collapses_the_detail() -> None:
    page = check(softmax).html()
    tree = parse(page)  # well formed
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page and "\\x1b[2J" in page
    box = tree.find("div", cls="bc-result")
    assert box.attrs["data-verdict"] == "error" and "#953800" in box.attrs["style"]
    failed = parse(check(dL_db).html())
    detail = failed.find("details", cls="bc-detail")
    assert "open" not in detail.attrs
    assert "expected" in detail.find("table", cls="bc-values").text
    assert detail.find("pre", cls="bc-message").text.count("got = dL_db(dL_dz)") == 1
    assert [li.text.split(":")[0] for li in detail.iter("li")] == ["bias-shape"]
    assert detail.find("summary").text.endswith("expected versus got, diagnoses, reproduction")
    assert not list(parse(check("forward").html()).iter("details"))  # one line says it all


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # buggy.py's softmax overflows, on purpose
def test_the_same_verdicts_points_diagnoses_and_messages_as_the_grader() -> None:
    namespace = runpy.run_path(str(EXAMPLES / "buggy.py"))
    mine = check_all(namespace).report("buggy.py")
    graded = grade_submission(EXAMPLES / "buggy.py", Config())
    assert list(mine["functions"]) == list(CONTRACT)
    assert mine["score"] == graded["score"] > 0 and mine["max_score"] == graded["max_score"]
    for fid in CONTRACT:
        ours, theirs = mine["functions"][fid], graded["functions"][fid]
        assert (ours["verdict"], ours["points"], ours["diagnosis"]) == (
            theirs["verdict"], theirs["points"], theirs["diagnosis"],
        ), fid  # fmt: skip
        # The snippet imports from the file in the grader; in a notebook, it says so.
        expected = re.sub(
            r"from buggy import (\w+)",
            r"# after running your code, which defines \1:",
            theirs["message"],
        )
        assert ours["message"] == expected, fid


def test_check_all_finds_the_functions_of_the_calling_cell() -> None:
    namespace = runpy.run_path(str(EXAMPLES / "solution.py"))
    results = check_all(namespace)
    assert results.passed and results.score == results.max_score == len(CONTRACT)
    assert "notebook: 14 / 14 points" in str(results)
    assert parse(results.html()).find("div", cls="bc-results")
    partial = check_all()  # this module's globals: a few, some wrong
    assert partial["relu"].passed and partial["dL_db"].verdict == "fail"
    assert partial["backward"].verdict == "missing" and not partial.passed
    assert "deciding (" in partial.output  # decide printed, kept once for all
    page = parse(partial.html())
    assert "deciding (" in next(d for d in page.iter("details") if "printed" in d.text).text


def test_the_students_numpy_error_state_is_theirs_and_the_judges_is_numpys_default() -> None:
    def softmax(a: Any) -> Any:  # overflows on large |a| (no maximum subtracted)
        e = np.exp(a)
        return e / e.sum(axis=0, keepdims=True)

    with np.errstate(all="raise"):
        assert check(relu).passed
        assert check(dL_db).diagnoses == ("bias-shape",)
        raised = check(softmax)
    assert raised.verdict == "error" and "FloatingPointError: overflow" in raised.message
    with np.errstate(all="ignore"):
        assert check(softmax).diagnoses == ("not-finite",)


@pytest.mark.parametrize("seed", range(5))
def test_dL_da_is_judged_even_when_every_point_drawn_is_one_layer_deep(seed: int) -> None:
    # With one test point, the point may be one layer deep: dL_da (the weights of the
    # layer above) gets no arguments from it. It is judged on deeper points then: a sign
    # flipped fails, never a pass on no evidence.
    def dL_da(W_next: Any, dL_dz_next: Any) -> Any:
        return -(W_next.T @ dL_dz_next)

    def right(W_next: Any, dL_dz_next: Any) -> Any:
        return W_next.T @ dL_dz_next

    config = {"examples": 1, "seed": seed}
    wrong = check(dL_da, config=config)
    assert wrong.verdict == "fail" and "sign" in wrong.diagnoses, wrong.message
    assert check(right, name="dL_da", config=config).passed
