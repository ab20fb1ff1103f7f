"""Grading under a course: the `[network]` table, the presets' example solutions, buggy
versions of each with the verdicts and diagnoses they should get, and the diagnoses
that follow the course's conventions."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

from backprop.course import PRESETS, Course
from backprop.course_reference import CourseReference
from checks.grader.config import Config, ConfigError, load_config
from checks.grader.judge._course import course_cases, diagnose_course, is_notes_network
from checks.grader.judge._grade import draw_points, grade_submission
from tests.course._courses import in_course

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def replaced(source: str, **functions: str) -> str:
    """`source` with some top-level functions replaced by other source."""
    for name, body in functions.items():
        pattern = re.compile(rf"^def {name}\(.*?(?=^def |\Z)", re.S | re.M)
        assert pattern.search(source), name
        source = pattern.sub(lambda _: textwrap.dedent(body).strip() + "\n\n\n", source)
    return source


# --- the configuration -------------------------------------------------------------


def test_the_network_table_is_a_course(tmp_path: Path) -> None:
    assert load_config(EXAMPLES / "cs231n.toml").network == PRESETS["cs231n"]
    assert load_config(EXAMPLES / "sigmoid_mse.toml").network == PRESETS["sigmoid-mse"]
    assert Config().network == Course()
    path = tmp_path / "grading.toml"
    path.write_text('loss = "categorical"\n')
    assert load_config(path).network == Course(loss="categorical")
    path.write_text('loss = "categorical"\n[network]\nlayout = "rows"\nbias = "flat"\n')
    assert load_config(path).network == Course(layout="rows", bias="(n,)", loss="categorical")
    path.write_text("[network]\nlayers = [5, 4, 3]\n")
    assert load_config(path).network.layers == (5, 4, 3)


def test_the_documented_configuration_loads() -> None:
    """The TOML of `checks.grader.config`'s docstring, as written."""
    import checks.grader.config as config

    assert config.__doc__ is not None
    text = config.__doc__.split("```toml")[1].split("```")[0]
    loaded = Config.from_mapping(tomllib.loads(text))
    assert loaded.network.layout == "rows" and loaded.network.layers == (784, 128, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[network]\nlayout = "diagonal"', "`network.layout` must be one of"),
        ("[network]\nwidth = 3", "unknown key `network.width`"),
        ('[network]\noutput = "sigmoid"', "`network.loss`"),
        ('loss = "notes"\n[network]\nloss = "mse"', "disagree"),
        ("[network]\nl2 = -1", "`network.l2` must be a number ≥ 0"),
        ("network = 3", "`network` must be a table"),
    ],
)
def test_a_bad_network_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "grading.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


# --- test points --------------------------------------------------------------------


def test_fixed_layers_fix_every_point() -> None:
    points = draw_points("notes", 5, seed=1, layers=(6, 5, 4))
    assert len(points) == 5
    assert all([W.shape for W, _ in p.params] == [(5, 6), (4, 5)] for p in points)
    assert {len(p.params) for p in draw_points("notes", 12, seed=1)} != {2}


@pytest.mark.parametrize("widths", [[4], [4, 1], [4, 0, 3]])
def test_fixed_points_refuse_widths_they_cannot_build(widths: list[int]) -> None:
    from checks.strategies import fixed_points

    with pytest.raises(ValueError, match="`widths` must be at least 2 positive widths"):
        fixed_points(widths)


def test_course_cases_are_in_the_course_conventions() -> None:
    course = PRESETS["cs231n"]
    point = draw_points("notes", 1, seed=2)[0]
    params, _, _ = in_course(course, point)
    [backward] = course_cases(course, "backward", point)
    assert backward["X"].shape == point.X.shape[::-1] and backward["Y"].dtype.kind == "i"
    assert [b.ndim for _, b in backward["params"]] == [1] * len(params)
    # the contract's relu slot: the hidden layers only (no ReLU before this softmax)
    assert len(course_cases(course, "relu", point)) == len(params) - 1
    assert len(course_cases(Course(), "relu", point)) == len(params)


# --- diagnoses that follow the conventions ------------------------------------------


def _case(course: Course, fid: str) -> tuple[dict[str, np.ndarray], object]:
    point = draw_points("notes", 1, seed=3, layers=(4, 5, 3))[0]
    [args] = course_cases(course, fid, point)[:1]
    return args, getattr(CourseReference(course), fid)(**args)


def _ids(course: Course, fid: str, got: object, args: dict, expected: object) -> set[str]:
    return {d.id for d in diagnose_course(course, fid, args, expected, got)}


def test_transposed_in_a_row_major_course() -> None:
    course = PRESETS["cs231n"]
    args, R = _case(course, "dL_dW")
    found = diagnose_course(course, "dL_dW", args, R, np.asarray(R).T)
    assert "transposed" in {d.id for d in found}
    assert any('layout = "rows"' in d.explanation for d in found)


def test_factor_m_follows_the_reduction() -> None:
    summed = PRESETS["sigmoid-mse"]
    args, R = _case(summed, "dL_daL")
    m = np.shape(args["y"])[1]
    found = diagnose_course(summed, "dL_daL", args, R, np.asarray(R) / m)
    assert [d.id for d in found] == ["factor-m"] and "sum" in found[0].explanation
    mean = Course(hidden="sigmoid", output="sigmoid", loss="mse")
    args, R = _case(mean, "dL_daL")
    found = diagnose_course(mean, "dL_daL", args, R, np.asarray(R) * m)
    assert [d.id for d in found] == ["factor-m"] and "mean" in found[0].explanation


@pytest.mark.parametrize("bias", ["(n,)", "(1, n)", "(n, 1)"])
def test_bias_shape_against_the_configured_shape(bias: str) -> None:
    course = Course(layout="rows", output="softmax", loss="categorical", bias=bias)
    args, R = _case(course, "dL_db")
    other = {"(n,)": (1, -1), "(1, n)": (-1, 1), "(n, 1)": (-1,)}[bias]
    found = diagnose_course(course, "dL_db", args, R, np.asarray(R).reshape(other))
    assert [d.id for d in found] == ["bias-shape"]
    assert bias in found[0].explanation and "values are right" in found[0].explanation
    assert diagnose_course(course, "dL_db", args, R, R) == []


def test_no_last_relu_only_where_the_output_has_one() -> None:
    with_relu = Course(layout="rows")
    args, R = _case(with_relu, "backward")
    without = CourseReference(Course(layout="rows", output="softmax")).backward(**args)
    assert "no-last-relu" in _ids(with_relu, "backward", without, args, R)
    softmax_only = Course(layout="rows", output="softmax")
    args, R = _case(softmax_only, "backward")
    wrong = [(2 * dW, db) for dW, db in R]
    assert "no-last-relu" not in _ids(softmax_only, "backward", wrong, args, R)


def test_the_notes_network_keeps_the_notes_path() -> None:
    assert is_notes_network(Course()) and is_notes_network(Course(loss="categorical"))
    assert is_notes_network(Course(layers=(3, 4, 2)))
    assert not any(is_notes_network(c) for n, c in PRESETS.items() if n != "notes")


# --- the presets' solutions, and a buggy version of each, through the sandbox --------


def _grade(tmp_path: Path, name: str, source: str, toml: str) -> dict[str, tuple[str, list[str]]]:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    report = grade_submission(path, load_config(EXAMPLES / toml), seed=0)
    return {f: (r["verdict"], r["diagnosis"]) for f, r in report["functions"].items()}


@pytest.mark.parametrize("preset", ["cs231n", "sigmoid_mse"])
def test_each_preset_solution_scores_full_marks(preset: str) -> None:
    config = load_config(EXAMPLES / f"{preset}.toml")
    report = grade_submission(EXAMPLES / f"{preset}.py", config)
    assert report["score"] == report["max_score"] == 14.0, report


CS231N_BUGS = {
    # the 1/m of the mean forgotten
    "dL_daL": """
        def dL_daL(probs, y):
            dscores = probs.copy()
            dscores[np.arange(probs.shape[0]), y] -= 1.0
            return dscores
    """,
    # the column-major habit in a row-major course
    "dL_dW": """
        def dL_dW(dL_dz, a_prev):
            return dL_dz.T @ a_prev
    """,
    # the bias gradient kept 2-D where the course's biases are flat
    "dL_db": """
        def dL_db(dL_dz):
            return dL_dz.sum(axis=0, keepdims=True)
    """,
}


def test_a_buggy_cs231n_solution_gets_its_verdicts(tmp_path: Path) -> None:
    source = replaced((EXAMPLES / "cs231n.py").read_text(), **CS231N_BUGS)
    got = _grade(tmp_path, "cs231n_buggy", source, "cs231n.toml")
    assert got["dL_daL"] == ("fail", ["factor-m"])
    assert got["dL_dW"][0] == "fail" and "transposed" in got["dL_dW"][1]
    assert got["dL_db"] == ("fail", ["bias-shape"])
    # built from the three: the transposed dW_l (n_l, n_{l-1}) cannot add REG * W_l
    # (n_{l-1}, n_l), whose widths the test points keep distinct
    assert got["backward"][0] == "error"
    right = {f for f, (v, _) in got.items() if v == "pass"}
    assert right == set(got) - {"dL_daL", "dL_dW", "dL_db", "backward"}


SIGMOID_BUGS = {
    # a mean where the course sums
    "dL_dyhat": """
        def dL_dyhat(y_hat, y):
            return (y_hat - y) / y.shape[1]
    """,
    # the derivative of the sigmoid written as σ(z), not σ(z)(1 - σ(z))
    "sigmoid_prime": """
        def sigmoid_prime(z):
            return sigmoid(z)
    """,
}


def test_a_buggy_sigmoid_mse_solution_gets_its_verdicts(tmp_path: Path) -> None:
    source = replaced((EXAMPLES / "sigmoid_mse.py").read_text(), **SIGMOID_BUGS)
    got = _grade(tmp_path, "sigmoid_buggy", source, "sigmoid_mse.toml")
    assert got["dL_dyhat"] == ("fail", ["factor-m"])
    assert got["relu_mask"][0] == "fail"  # the contract's slot of `sigmoid_prime`
    assert got["dL_dz"][0] == "fail" and got["backward"][0] == "fail"
    right = {f for f, (v, _) in got.items() if v == "pass"}
    assert right == set(got) - {"dL_dyhat", "relu_mask", "dL_dz", "backward"}
