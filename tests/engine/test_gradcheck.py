"""`check_gradient`: right gradients pass, wrong ones fail with the right message and shape."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backprop import formulas as f
from backprop.catalog import FORMULAS, Point, param_blocks
from checks import (
    ComplexStepError,
    GradientReport,
    NetworkLoss,
    assert_gradient_close,
    check_gradient,
    network_check,
    numerical_jacobian,
)
from tests.engine._points import grad_blocks, network

SIZES = [5, 4, 3]  # widths all different from each other and from m
M = 6


@pytest.fixture
def point(rng: np.random.Generator) -> tuple[Any, np.ndarray, np.ndarray]:
    return network(rng, SIZES, M)


@pytest.mark.parametrize("method", ["central", "forward", "richardson", "complex", "scipy"])
@pytest.mark.parametrize("mode", ["full", "directional"])
def test_the_reference_gradient_passes(point: Any, method: str, mode: str) -> None:
    params, X, Y = point
    report = check_gradient(
        NetworkLoss(X, Y), grad_blocks(params, X, Y), param_blocks(params), method=method, mode=mode
    )
    assert report.ok, str(report)
    assert report.method == method and report.mode == mode
    if method == "scipy" and mode == "full":
        assert set(report.scipy) == {
            "check_grad(direction='all')",
            "check_grad(direction='random')",
        }
        assert all(v < 1e-5 for v in report.scipy.values())


@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_network_check_takes_backward_pairs(point: Any, kind: str) -> None:
    from backprop.network import backward

    params, X, Y = point
    report = network_check(params, X, Y, backward(params, X, Y, kind=kind), kind=kind)
    assert report.ok and report.norm_rel_error < 1e-8
    wrong = network_check(
        params,
        X,
        Y,
        backward(params, X, Y, kind=kind),
        kind="notes" if kind == "categorical" else "categorical",
    )
    assert not wrong.ok


def _wrong(grads: dict[str, np.ndarray], name: str, how: str) -> dict[str, np.ndarray]:
    out = dict(grads)
    if how == "sign":
        out[name] = -grads[name]
    elif how == "factor-m":
        out[name] = M * grads[name]
    elif how == "one-entry":
        out[name] = grads[name].copy()
        out[name][1, 2] *= 1.01
    elif how == "transposed":
        out[name] = grads[name].T
    return out


@pytest.mark.parametrize(
    ("how", "finding", "text"),
    [
        ("sign", "sign", "the negative of the expected result"),
        ("factor-m", "factor-m", "m = 6 times the expected"),
        ("one-entry", None, "W_1[1, 2]"),
        ("transposed", "transposed", "the transpose of the expected result"),
    ],
)
def test_a_wrong_block_fails_with_its_fingerprint(
    point: Any, how: str, finding: str | None, text: str
) -> None:
    params, X, Y = point
    grads = _wrong(grad_blocks(params, X, Y), "W_1", how)
    report = check_gradient(NetworkLoss(X, Y), grads, param_blocks(params))
    assert not report.ok
    rows = {b.name: b for b in report.blocks}
    assert not rows["W_1"].ok and all(rows[n].ok for n in rows if n != "W_1")
    if finding is not None:
        assert next(x.id for x in rows["W_1"].findings) == finding
    message = str(report)
    assert "gradient check FAILED: 1 of 4 block(s) wrong" in message
    assert text in message
    if how == "one-entry":
        assert report.worst[0].where == "W_1[1, 2]" and rows["W_1"].failed == 1


def test_a_missing_relu_mask_shows_as_a_zero_pattern(rng: np.random.Generator) -> None:
    z = rng.standard_normal((4, 5))
    dL_da = rng.standard_normal((4, 5))
    truth = FORMULAS["dL_dz"].truth({"dL_da": dL_da, "z": z}, "notes")
    report = check_gradient(truth.f, dL_da, truth.x, kinks=truth.kinks)  # the mask forgotten
    assert not report.ok
    assert [x.id for x in report.blocks[0].findings] == ["zero-pattern"]
    assert "nonzero at" in str(report) and "where the expected is 0" in str(report)


def test_a_wrong_shape_is_a_failed_report_not_an_exception(point: Any) -> None:
    params, X, Y = point
    grads = grad_blocks(params, X, Y)
    grads["b_2"] = grads["b_2"].ravel()  # erratum E4
    del grads["b_1"]
    report = check_gradient(NetworkLoss(X, Y), grads, param_blocks(params))
    rows = {b.name: b for b in report.blocks}
    assert not report.ok
    assert [x.id for x in rows["b_2"].findings] == ["bias-shape", "wrong-shape"]
    assert [x.id for x in rows["b_1"].findings] == ["wrong-shape"]
    assert rows["W_1"].ok and rows["W_2"].ok
    assert "got shape (3,), expected (3, 1)" in str(report)


def _at_a_kink(point: Any) -> tuple[list[Any], Any, Any]:
    params, X, Y = point
    params = [(W.copy(), b.copy()) for W, b in params]
    z1 = params[0][0] @ X + params[0][1]
    params[0][1][0, 0] -= z1[0, 0]  # z_1[0, 0] == 0 (to rounding): every central step crosses
    return params, X, Y


def test_kink_crossings_are_checked_on_the_points_piece_not_skipped(point: Any) -> None:
    params, X, Y = _at_a_kink(point)
    report = network_check(params, X, Y, grad_blocks(params, X, Y))
    assert report.ok and report.status == "passed", str(report)
    assert not report.skipped and "b_1[0, 0]" in report.one_sided
    assert "checked on x's own piece" in str(report)
    assert "complex step on x's own piece" in report.tolerance_source


def _pinched(point: Any) -> tuple[list[Any], Any, Any]:
    """`b_1[0]` on a piece 3e-9 wide: `z_1[0]` is 0 in example 0 (a move up switches the
    unit on there) and 3e-9 in example 1 (a move down of 3e-9 switches it off there)."""
    params, X, Y = _at_a_kink(point)
    X = X.copy()
    w = params[0][0][0]
    z1 = w @ X[:, 1] + params[0][1][0, 0]
    X[:, 1] += (3e-9 - z1) * w / (w @ w)
    return params, X, Y


@pytest.mark.parametrize("scale", [1 + 1e-6, 1 - 1e-6])
def test_an_error_of_1e_6_on_a_piece_3e_9_wide_is_caught(point: Any, scale: float) -> None:
    # A one-sided difference must stay within 3e-9 of x: its rounding (~1e-5 here) hid
    # errors of 1e-4 relative, and a 1 % error of a small entry in the edges sweep. The
    # complex step stays on x's own piece at rounding's accuracy.
    params, X, Y = _pinched(point)
    z1 = params[0][0] @ X + params[0][1]
    assert abs(z1[0, 0]) < 1e-15 and 1e-9 < z1[0, 1] < 1e-8
    grads = grad_blocks(params, X, Y)
    assert network_check(params, X, Y, grads).status == "passed"
    grads["b_1"] = grads["b_1"].copy()
    grads["b_1"][0, 0] *= scale
    report = network_check(params, X, Y, grads)
    assert report.status == "failed" and "b_1[0, 0]" in [e.where for e in report.worst], str(report)


def test_a_function_that_is_not_complex_safe_is_checked_one_sided_at_a_kink(point: Any) -> None:
    params, X, Y = _at_a_kink(point)
    F = NetworkLoss(X, Y)
    report = check_gradient(
        lambda b: F(b), grad_blocks(params, X, Y), param_blocks(params), kinks=F.kinks
    )
    assert report.status == "passed" and "b_1[0, 0]" in report.one_sided, str(report)
    assert "one-sided on x's own piece" in report.tolerance_source
    assert "complex step" not in report.tolerance_source


@pytest.mark.parametrize("scale", [1.01, 0.99])
def test_a_one_percent_error_at_a_kink_is_caught(point: Any, scale: float) -> None:
    params, X, Y = _at_a_kink(point)
    grads = grad_blocks(params, X, Y)
    grads["b_1"] = grads["b_1"].copy()
    grads["b_1"][0, 0] = scale * grads["b_1"][0, 0] + (scale - 1) * 1e-3  # even where it is 0
    report = network_check(params, X, Y, grads)
    assert report.status == "failed" and "b_1[0, 0]" in [e.where for e in report.worst]


def test_an_unchecked_entry_is_neither_a_pass_nor_a_failure() -> None:
    x = np.array([0.5, 1.0, -2.0])
    kinks = lambda v: v[0]  # noqa: E731  any move of x[0] changes its pattern
    report = check_gradient(lambda v: np.sum(v**2), 2 * x, x, kinks=kinks)
    assert not report.ok and report.status == "unchecked"
    assert report.skipped == (("x[0]", report.skipped[0][1]),)
    assert str(report).startswith("gradient check UNCHECKED") and "unchecked 1" in str(report)
    assert report.to_dict()["status"] == "unchecked"
    wrong = check_gradient(lambda v: np.sum(v**2), 2 * x + [0, 0, 1e-3], x, kinks=kinks)
    assert wrong.status == "failed" and not wrong.ok


def test_every_catalog_truth_certifies_its_reference(rng: np.random.Generator) -> None:
    params, X, Y = network(rng, SIZES, M)
    pt = Point(params, X, Y)
    checked = 0
    for entry in FORMULAS.values():
        if entry.truth is None:
            continue
        for args in entry.sample(pt):
            truth = entry.truth(args, "notes")
            expected = entry.reference(args, "notes")
            if truth.jacobian:
                J, est = numerical_jacobian(truth.f, truth.x, full_output=True)
                assert np.all(np.abs(J - expected) <= est.error.T.reshape(J.shape)), entry.id
            elif entry.id == "backward":
                assert check_gradient(
                    truth.f, param_blocks(expected), truth.x, kinks=truth.kinks
                ).ok
            else:
                report = check_gradient(truth.f, expected, truth.x, kinks=truth.kinks)
                assert report.ok, f"{entry.id}\n{report}"
            checked += 1
    assert checked >= 10


def _float32_problem(rng: np.random.Generator) -> tuple[Any, np.ndarray, np.ndarray]:
    A = rng.standard_normal((6, 4)).astype(np.float32)
    x = rng.standard_normal(4).astype(np.float32)

    def fun(v: np.ndarray) -> np.ndarray:
        return np.float32(0.5) * np.sum(np.tanh(A @ v) ** 2, dtype=np.float32)

    t = np.tanh(A @ x.astype(np.float64))
    grad = (A.T.astype(np.float64) @ (t * (1 - t**2))).astype(np.float32)
    return fun, grad, x


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_float32_is_checked_honestly(rng: np.random.Generator, mode: str) -> None:
    fun, grad, x = _float32_problem(rng)
    assert check_gradient(fun, grad, x, mode=mode).ok
    wrong = grad.copy()
    wrong *= np.float32(1.01)  # 1 %: far above float32's ~1e-5 differences at this scale
    report = check_gradient(fun, wrong, x, mode=mode)
    assert not report.ok
    assert "ε = 1.2e-07" in report.tolerance_source


def test_directional_mode_catches_one_wrong_entry_with_few_evaluations(
    rng: np.random.Generator,
) -> None:
    # Seeded and cheap: 20 draws of the directions; the sensitivity of the Notes says a
    # miss is < 1e-6 likely here, so a single miss is a real regression.
    params, X, Y = network(rng, [8, 6, 5], 7)
    x, F = param_blocks(params), NetworkLoss(X, Y)
    grads = grad_blocks(params, X, Y)
    entry = np.unravel_index(np.argmax(np.abs(grads["W_1"])), grads["W_1"].shape)
    wrong = dict(grads, W_1=grads["W_1"].copy())
    wrong["W_1"][entry] *= 1.01
    for seed in range(20):
        right = check_gradient(F, grads, x, mode="directional", rng=seed)
        assert right.ok and right.evaluations == 8, str(right)  # 4 per direction
        assert not check_gradient(F, wrong, x, mode="directional", rng=seed).ok


def test_given_tolerances_replace_the_error_model(point: Any) -> None:
    params, X, Y = point
    grads = grad_blocks(params, X, Y)
    wrong = dict(grads, W_2=grads["W_2"] * (1 + 1e-4))
    F, x = NetworkLoss(X, Y), param_blocks(params)
    assert not check_gradient(F, wrong, x).ok
    loose = check_gradient(F, wrong, x, rtol=1e-3)
    assert loose.ok and loose.tolerance_source == "given: atol=None, rtol=0.001"


def test_the_report_fits_a_terminal(rng: np.random.Generator) -> None:
    params, X, Y = network(rng, [60, 30, 10], 8)
    grads = grad_blocks(params, X, Y)
    report = check_gradient(
        NetworkLoss(X, Y), dict(grads, W_1=-grads["W_1"]), param_blocks(params), m=8
    )
    text = str(report)
    assert isinstance(report, GradientReport)
    assert max(map(len, text.splitlines())) <= 120 and len(text.splitlines()) < 30
    assert "W_1[" in text and "[[" not in text  # entries named, never an array dumped


def test_assert_gradient_close_raises_with_the_report(point: Any) -> None:
    params, X, Y = point
    grads = grad_blocks(params, X, Y)
    F, x = NetworkLoss(X, Y), param_blocks(params)
    assert assert_gradient_close(F, grads, x).ok
    with pytest.raises(AssertionError, match="gradient check FAILED"):
        assert_gradient_close(F, dict(grads, b_1=2 * grads["b_1"]), x)


BAD = [
    ("mode", dict(mode="fast"), ValueError, "`mode` must be one of"),
    ("rtol", dict(rtol=-1.0), ValueError, "`rtol` must be a non-negative"),
    ("directions", dict(directions=0), ValueError, "`directions` must be a positive"),
    ("method", dict(method="five-point"), ValueError, "`method` must be one of"),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_options_raise(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        check_gradient(lambda v: np.sum(v**2), np.zeros(2), np.zeros(2), **kwargs)


def test_a_grad_that_is_not_a_mapping_for_blocks_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="`grad` must be a mapping"):
        check_gradient(lambda p: np.sum(p["a"]), np.zeros(2), {"a": np.zeros(2)})


def test_relu_sum_at_exact_zero_is_reported_as_a_kink() -> None:
    z = np.array([[0.0, 1.0], [-1.0, 2.0]])
    report = check_gradient(lambda v: np.sum(f.relu(v)), f.relu_mask(z), z, kinks=lambda v: v > 0)
    assert report.ok and report.one_sided == ("x[0, 0]",) and not report.skipped
    # the mask `z >= 0` is the other piece's derivative: one-sided, it is caught
    ge = (z >= 0).astype(float)
    bad = check_gradient(lambda v: np.sum(f.relu(v)), ge, z, kinks=lambda v: v > 0)
    assert bad.status == "failed" and bad.worst[0].where == "x[0, 0]"


def test_the_network_loss_brings_its_m_and_kinks_to_the_check(point: Any) -> None:
    from checks import NetworkLoss

    params, X, Y = point
    grads = grad_blocks(params, X, Y)
    loss = NetworkLoss(X, Y, kind="notes")
    report = check_gradient(loss, dict(grads, W_1=M * grads["W_1"]), param_blocks(params))
    rows = {b.name: b for b in report.blocks}
    assert [x.id for x in rows["W_1"].findings] == ["factor-m"]  # m and kinks came with it


def test_entries_where_f_is_not_finite_are_skipped_with_why() -> None:
    x = np.array([1e-6 + 1e-9, 1.0])  # f is infinite below 1e-6: x[0] - h is there

    def fun(v: np.ndarray) -> Any:
        return np.sum(np.where(v < 1e-6, np.inf, v**2))

    report = check_gradient(fun, 2 * x, x)
    assert report.ok and report.one_sided == ("x[0]",)  # from the right, where f is finite
    x = np.array([0.25, 1.0])

    def spike(v: np.ndarray) -> Any:  # finite at x[0] = 0.25 only
        return np.sum(v**2) + (0.0 if v[0] == 0.25 else np.inf)

    report = check_gradient(spike, 2 * x, x)
    assert report.status == "unchecked" and report.skipped == (
        ("x[0]", "`f` is not finite at x ± h"),
    )


def test_a_report_becomes_plain_json(point: Any) -> None:
    import json

    params, X, Y = point
    grads = grad_blocks(params, X, Y)
    report = check_gradient(NetworkLoss(X, Y), dict(grads, W_2=-grads["W_2"]), param_blocks(params))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["method"] == "central"
    rows = {row["name"]: row for row in data["blocks"]}
    assert rows["W_2"]["findings"][0]["id"] == "sign" and rows["W_1"]["ok"] is True


def test_a_check_where_every_entry_is_skipped_does_not_pass() -> None:
    z = np.zeros((2, 2))
    report = check_gradient(lambda v: np.sum(v**2), 2 * z, z, kinks=lambda v: v.copy())
    assert not report.ok and report.status == "unchecked" and len(report.skipped) == 4


def test_an_entry_curving_more_than_the_sampled_ones_is_re_estimated_not_failed() -> None:
    x = np.linspace(1.0, 2.0, 10)
    x[5] = 0.01  # a small gradient: the error model samples the largest and the ends

    def fun(v: np.ndarray) -> Any:
        return np.sum(v**2) + 500 * (v[5] - 0.01) ** 3  # f''' = 3000 at entry 5 only

    # truncation at entry 5: h²/6·3000 ≈ 2e-8, far above the block's sampled bound
    report = check_gradient(fun, 2 * x, x)
    assert report.ok, str(report)
    assert (
        "1 entries over it re-estimated by Richardson from steps h and 2h"
        in report.tolerance_source
    )
    wrong = 2 * x
    wrong[5] *= 1.01
    assert not check_gradient(fun, wrong, x).ok


def test_directional_mode_stays_on_the_piece_at_a_kink() -> None:
    z = np.array([0.0, 1.0, -1.0])  # x[0] on the kink: every central step along u crosses
    relu_sum = lambda v: np.sum(f.relu(v))  # noqa: E731
    kinks = lambda v: v > 0  # noqa: E731
    report = check_gradient(relu_sum, f.relu_mask(z), z, kinks=kinks, mode="directional")
    assert report.status == "passed" and len(report.directional) == 2, str(report)
    wrong = check_gradient(relu_sum, (z >= 0) * 1.0, z, kinks=kinks, mode="directional")
    assert wrong.status == "failed"


def test_directional_mode_with_no_reachable_direction_is_unchecked() -> None:
    x = np.array([0.5, 1.0])
    report = check_gradient(
        lambda v: np.sum(v**2), 2 * x, x, kinks=lambda v: v.copy(), mode="directional"
    )
    assert report.status == "unchecked" and not report.ok and len(report.skipped) == 2
    assert str(report).startswith("gradient check UNCHECKED")


def _sq(v: Any) -> Any:
    return np.sum(v**2) if not isinstance(v, dict) else np.sum(v["a"] ** 2) + np.sum(v["b"])


def _sq_grad(v: Any) -> Any:
    return 2 * v if not isinstance(v, dict) else {"a": 2 * v["a"], "b": np.ones_like(v["b"])}


@pytest.mark.parametrize(
    "x", [np.array([0.3, -1.2]), {"a": np.array([[0.3, -1.2]]), "b": np.zeros(2)}]
)
def test_a_gradient_function_is_evaluated_at_x_like_scipy_check_grad(x: Any) -> None:
    from checks import taylor_test

    report = check_gradient(_sq, _sq_grad, x)
    assert report.ok and report.tolerance > 0, str(report)
    assert assert_gradient_close(_sq, _sq_grad, x, mode="directional").ok
    assert taylor_test(_sq, _sq_grad, x).ok
    wrong = check_gradient(_sq, lambda v: _sq_grad(v) if isinstance(v, dict) else 3 * v, x)
    assert wrong.ok == isinstance(x, dict) and wrong.status in ("passed", "failed")


UNUSABLE = [
    ("grad string", dict(grad="abc"), "`grad` must be a real numeric array"),
    ("grad None", dict(grad=None), "`grad` must be an array, a mapping"),
    ("grad complex", dict(grad=np.zeros(2, complex)), "dtype complex128"),
    ("grad ragged", dict(grad=[[1.0], [1.0, 2.0]]), "`grad` must be a real numeric array"),
    ("grad returns None", dict(grad=lambda v: None), "must return the gradient at `x`"),
    ("grad returns text", dict(grad=lambda v: "2x"), "`grad` must be a real numeric array"),
    ("rtol text", dict(rtol="1e-6"), "`rtol` must be a number"),
    ("directions float", dict(directions=1.5), "`directions` must be an integer"),
    ("m text", dict(m="3"), "`m` must be an integer"),
    ("rng text", dict(rng="seed"), "`rng` must be an integer"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), [u[1:] for u in UNUSABLE], ids=[u[0] for u in UNUSABLE]
)
def test_an_unusable_argument_is_a_type_error_never_a_failed_check(
    kwargs: dict[str, Any], message: str
) -> None:
    args = {"grad": np.zeros(2), **kwargs}
    grad = args.pop("grad")
    with pytest.raises(TypeError, match=message):
        check_gradient(_sq, grad, np.ones(2), **args)
    if "grad" in kwargs:
        from checks import taylor_test

        with pytest.raises(TypeError, match=message):
            taylor_test(_sq, grad, np.ones(2))


def test_a_gradient_function_that_raises_names_itself() -> None:
    from checks import FunctionError

    def broken(v: Any) -> Any:
        raise KeyError("W_1")

    with pytest.raises(FunctionError, match="`grad` raised KeyError"):
        check_gradient(_sq, broken, np.ones(2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_gradient_entries_fail_where_they_are(point: Any, bad: float) -> None:
    params, X, Y = point
    grads = grad_blocks(params, X, Y)
    grads["W_2"] = grads["W_2"].copy()
    grads["W_2"][1, 2] = bad
    report = check_gradient(NetworkLoss(X, Y), grads, param_blocks(params))
    assert report.status == "failed" and report.worst[0].where == "W_2[1, 2]"
    row = {b.name: b for b in report.blocks}["W_2"]
    assert row.failed == 1 and row.checked == grads["W_2"].size


@pytest.mark.parametrize(
    ("method", "bound"),
    # the float64 error models: ε^(2/3) for central differences, a few ε for the
    # complex step, each relative to the scale max(|f|, max|g|) (see default_step)
    [("central", 100 * np.finfo(float).eps ** (2 / 3)), ("complex", 64 * np.finfo(float).eps)],
)
def test_float64_tolerance_is_as_tight_as_the_error_model(
    point: Any, method: str, bound: float
) -> None:
    params, X, Y = point
    grads, x = grad_blocks(params, X, Y), param_blocks(params)
    F = NetworkLoss(X, Y)
    report = check_gradient(F, grads, x, method=method)
    scale = max(float(F(x)), max(float(np.abs(g).max()) for g in grads.values()))
    assert report.ok and report.tolerance <= bound * scale, str(report)
    nudged = {k: v.copy() for k, v in grads.items()}
    nudged["W_1"][0, 0] += 10 * report.tolerance  # ten tolerances off: must fail
    assert check_gradient(F, nudged, x, method=method).status == "failed"


def test_float32_points_far_below_the_step_are_not_false_alarms() -> None:
    # A float32 bias of ~1e-8, far below the step (6e-6): x + h rounds to float32 and the
    # step actually taken, formed in float32, was off by ε₃₂/2 relative (6e-8·|f'|, far
    # above the float64 rounding bound). Several seeds: the old quotient failed most.
    for seed in range(4):
        params, X, Y = network(np.random.default_rng(seed), [4, 6, 3], 5)
        params = [(W.astype(np.float32), (1e-8 * b).astype(np.float32)) for W, b in params]
        X = X.astype(np.float32)
        report = network_check(params, X, Y, grad_blocks(params, X, Y))
        assert report.ok, str(report)


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_float32_steps_rounded_unequally_are_not_false_alarms(method: str) -> None:
    # b_1[1] = -0.125 = -2^-3: in float32, x + h and x - h round on grids of different
    # spacing, so the two steps differ by an ulp (7e-9); the quotient by their sum was
    # off by f''(u - d)/2 = 7.5e-10, three times the tolerance (found by edge_points).
    params = [(np.array([[-0.625], [-0.25]], np.float32), np.array([[1.0], [-0.125]], np.float32))]
    X = np.array([[1.0, -0.75, -1.25]], np.float32)
    Y = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    from backprop.network import backward

    report = network_check(params, X, Y, backward(params, X, Y), method=method)
    assert report.ok, str(report)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_doubled_gradient_of_1e_27_fails(rng: np.random.Generator, dtype: type) -> None:
    # A saturated right class: the loss and its gradient are ~1e-27, and the loss's
    # declared rounding scale (9e-25) bounds its rounding, not a floor of ε (which
    # made the tolerance 3e-26, above the gradient itself).
    W = rng.standard_normal((2, 20)) / np.sqrt(20)
    X = rng.standard_normal((20, 1))
    b = np.array([[-abs(float(W[0] @ X[:, 0])) - 1.0], [62.0 - float(W[1] @ X[:, 0])]])
    params = [(W.astype(dtype), b.astype(dtype))]
    X, Y = X.astype(dtype), np.array([[0.0], [1.0]])
    grads = grad_blocks(params, X, Y, kind="categorical")
    assert 1e-28 < np.max(np.abs(grads["W_1"])) < 1e-26
    assert network_check(params, X, Y, grads, kind="categorical").status == "passed"
    grads["W_1"] = 2 * grads["W_1"]
    report = network_check(params, X, Y, grads, kind="categorical")
    assert report.status == "failed", str(report)


def test_the_complex_step_takes_a_float32_point_of_a_complex_safe_function(
    rng: np.random.Generator,
) -> None:
    # The safety probe rounded its points to float32, and its central difference
    # disagreed with the complex step by percents: complex-safe functions were refused.
    A = rng.standard_normal((6, 40))
    x = (rng.standard_normal(40) / 6).astype(np.float32)

    def f(v: np.ndarray) -> np.ndarray:
        return np.sum(np.exp(A @ v)) + np.sum(v**3)

    grad = (A.T @ np.exp(A @ x.astype(np.float64)) + 3 * x.astype(np.float64) ** 2).astype(
        np.float32
    )
    report = check_gradient(f, grad, x, method="complex")
    assert report.status == "passed", str(report)
    with pytest.raises(ComplexStepError, match="not complex-safe"):
        check_gradient(lambda v: np.sum(np.abs(A @ v)), grad, x, method="complex")


def test_directional_mode_says_its_resolution_and_keeps_it(rng: np.random.Generator) -> None:
    # One entry off by the stated resolution is caught at least 99 times in 100: here
    # in 300 seeded trials, each with its own directions and a random entry.
    params, X, Y = network(rng, [6, 5, 4], 7)
    F, x, g = NetworkLoss(X, Y), param_blocks(params), grad_blocks(params, X, Y)
    first = check_gradient(F, g, x, mode="directional", rng=0)
    assert first.ok and np.isfinite(first.resolution), str(first)
    assert "caught with probability ≥ 99 %" in str(first)
    assert first.to_dict()["resolution"] == first.resolution
    names = list(g)
    missed = 0
    for trial in range(300):
        name = names[trial % len(names)]
        bad = {k: v.copy() for k, v in g.items()}
        idx = tuple(int(rng.integers(s)) for s in bad[name].shape)
        bad[name][idx] += first.resolution * (1 if trial % 2 else -1)
        report = check_gradient(F, bad, x, mode="directional", rng=trial + 1)
        missed += report.ok
    assert missed <= 3, missed
