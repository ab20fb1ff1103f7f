"""The instructor's grading configuration (TOML), validated key by key.

```toml
loss = "categorical"          # or "notes", the default
examples = 12                 # random test points per function
seed = 0                      # overridden by --seed
hidden = ["backward"]         # functions whose feedback students do not see
log_epsilon = "note"          # or "strict": np.log(y_hat + 1e-7) fails (diagnosis log-epsilon)
depths = [2, 3]               # numbers of layers the course's code handles (default: 1 to 3)

[names]                       # contract name = the name the assignment uses
dL_dW = "grad_W"

[points]                      # points per function (default 1.0 each)
backward = 4.0

[network]                     # the course's network and conventions (docs/courses.md)
layout = "rows"               # or "columns", the notes'
hidden = "relu"               # "leaky_relu", "sigmoid", "tanh"
output = "softmax"            # "relu-softmax" (the notes'), "sigmoid"
loss = "categorical"          # "notes", "binary", "mse" (or the top-level `loss`)
reduction = "mean"            # or "sum"
labels = "integers"           # or "one-hot"
bias = "(n,)"                 # "(n, 1)" (the notes'), "(1, n)"; "flat" is "(n,)"
l2 = 0.0                      # weight decay (l2/2)·Σ‖W‖² in backward's loss
l2_biases = false             # decay the biases too
layers = [784, 128, 10]       # optional: every test point has this architecture

[limits]
call_timeout = 10.0           # seconds of wall-clock time per call
total_timeout = 120.0         # seconds for the whole submission
memory_mb = 1024              # address-space limit of the submission's process
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backprop import CONTRACT, LOSSES
from backprop.course import Course, CourseError

__all__ = ["Config", "ConfigError", "load_config"]

_TOP = {
    "loss",
    "examples",
    "seed",
    "hidden",
    "names",
    "points",
    "limits",
    "network",
    "log_epsilon",
    "depths",
}
_EPSILON = ("note", "strict")
_MAX_DEPTH = 6
_LIMITS = {"call_timeout", "total_timeout", "memory_mb"}


class ConfigError(ValueError):
    """A grading configuration that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Config:
    loss: str = "notes"
    examples: int = 12
    seed: int | None = None
    hidden: frozenset[str] = frozenset()
    names: Mapping[str, str] = field(default_factory=dict)
    points: Mapping[str, float] = field(default_factory=dict)
    call_timeout: float = 10.0
    total_timeout: float = 120.0
    memory_mb: int = 1024
    path: Path | None = None  # the file it was read from: hidden from submissions
    network: Course = field(default_factory=Course)  # the course: the notes' by default
    log_epsilon: str = "note"  # "note": a log guard passes with a note; "strict": it fails
    depths: tuple[int, ...] = (1, 2, 3)  # the numbers of layers of the test points

    def name_of(self, function: str) -> str:
        """The name the submission defines for a contract function."""
        return self.names.get(function, function)

    def points_of(self, function: str) -> float:
        return self.points.get(function, 1.0)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "configuration") -> Config:
        unknown = sorted(set(data) - _TOP)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key `{unknown[0]}` (known: {', '.join(sorted(_TOP))})"
            )
        loss = data.get("loss", "notes")
        network = _network(data, source)
        if network is not None:
            loss = network.loss
        elif loss not in LOSSES:
            known = " or ".join(f'"{name}"' for name in LOSSES)
            raise ConfigError(f"{source}: `loss` must be {known}, got {loss!r}")
        examples = _integer(data, "examples", 12, source, minimum=1)
        seed = data.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ConfigError(f"{source}: `seed` must be an integer, got {seed!r}")
        hidden = data.get("hidden", [])
        if not isinstance(hidden, list):
            raise ConfigError(
                f"{source}: `hidden` must be a list of function names, got {hidden!r}"
            )
        for name in hidden:
            _function(name, "hidden", source)
        names = _table(data, "names", source)
        for function, alias in names.items():
            _function(function, f"names.{function}", source)
            if not isinstance(alias, str) or not alias.isidentifier():
                raise ConfigError(
                    f"{source}: `names.{function}` must be a Python name, got {alias!r}"
                )
        points = _table(data, "points", source)
        for function, value in points.items():
            _function(function, f"points.{function}", source)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ConfigError(
                    f"{source}: `points.{function}` must be a number ≥ 0, got {value!r}"
                )
        limits = _table(data, "limits", source)
        unknown = sorted(set(limits) - _LIMITS)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key `limits.{unknown[0]}` (known: {', '.join(sorted(_LIMITS))})"
            )
        log_epsilon = data.get("log_epsilon", "note")
        if log_epsilon not in _EPSILON:
            raise ConfigError(
                f'{source}: `log_epsilon` must be "note" or "strict", got {log_epsilon!r}'
            )
        depths = data.get("depths", [1, 2, 3])
        if (
            not isinstance(depths, list)
            or not depths
            or not all(
                isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= _MAX_DEPTH
                for d in depths
            )
        ):
            raise ConfigError(
                f"{source}: `depths` must be a non-empty list of numbers of layers from 1 to "
                f"{_MAX_DEPTH}, got {depths!r}"
            )
        return cls(
            loss=loss,
            log_epsilon=log_epsilon,
            depths=tuple(sorted(set(depths))),
            examples=examples,
            seed=seed,
            hidden=frozenset(hidden),
            names=dict(names),
            points={k: float(v) for k, v in points.items()},
            call_timeout=_positive(limits, "call_timeout", 10.0, source),
            total_timeout=_positive(limits, "total_timeout", 120.0, source),
            memory_mb=_integer(limits, "memory_mb", 1024, source, minimum=64, prefix="limits."),
            network=network if network is not None else Course(loss=loss),
        )


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML grading configuration."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration `{path}`: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"`{path}` is not valid TOML: {exc}") from exc
    return replace(Config.from_mapping(data, source=str(path)), path=path.resolve())


def _network(data: Mapping[str, Any], source: str) -> Course | None:
    """The `[network]` table as a `Course`; a top-level `loss` is its loss unless it has one."""
    if "network" not in data:
        return None
    table = dict(_table(data, "network", source))
    if "loss" in data:
        if "loss" in table and table["loss"] != data["loss"]:
            raise ConfigError(
                f"{source}: `loss` = {data['loss']!r} and `network.loss` = {table['loss']!r} "
                "disagree; give the loss once, in [network]"
            )
        table["loss"] = data["loss"]
    if isinstance(table.get("layers"), list):
        table["layers"] = tuple(table["layers"])
    try:
        return Course.from_mapping(table, source="[network]")
    except CourseError as exc:
        raise ConfigError(f"{source}: {exc}".replace("`", "`network.", 1)) from None


def _function(name: object, key: str, source: str) -> None:
    if name not in CONTRACT:
        raise ConfigError(
            f"{source}: `{key}` names {name!r}, which is not a function of the contract"
        )


def _table(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: `{key}` must be a table, got {value!r}")
    return value


def _integer(
    data: Mapping[str, Any], key: str, default: int, source: str, *, minimum: int, prefix: str = ""
) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(
            f"{source}: `{prefix}{key}` must be an integer ≥ {minimum}, got {value!r}"
        )
    return value


def _positive(data: Mapping[str, Any], key: str, default: float, source: str) -> float:
    value = data.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        raise ConfigError(
            f"{source}: `limits.{key}` must be a number of seconds > 0, got {value!r}"
        )
    return float(value)
