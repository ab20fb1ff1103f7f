"""Call a student's functions in their own kernel, returning what the sandbox returns.

The judge (`checks.grader.judge`) sees a submission only through a `Caller`: `call(name,
args)` returns an `Outcome` holding plain data. The grader's caller is the `Sandbox`,
another process; this one calls the functions where they are, in the student's own
Python, and converts what they return by the same rules as the sandbox's worker, so
that the judge sees the same data and gives the same verdicts:

- every call gets fresh copies of its arguments (the sandbox sends copies through a
  pipe); numbers are sent as Python floats;
- a result is plain data or ``invalid``: a numeric ndarray (plain, not a subclass), a
  Python number as a float, a numpy scalar or a list of numbers as an array, lists and
  tuples of those (``backward``'s pairs); ``None``, strings and other objects are
  ``invalid`` with the sandbox's words;
- an argument the call changed in place (its type, shape, dtype or bytes) is listed in
  `mutated`;
- an exception is ``error``, with the exception's line as the message and its
  traceback from the student's frames on; ``sys.exit`` too. ``KeyboardInterrupt`` is
  not caught: interrupting the kernel stops the check.

There is no time limit (the student interrupts the kernel) and no isolation: it is the
student's own code on their own machine.
"""

from __future__ import annotations

import contextlib
import io
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from checks.grader.sandbox import Outcome

__all__ = ["InProcessCaller"]

_NUMERIC = "biufc"
_MAX_DEPTH = 8
_MAX_TEXT = 20_000  # characters of a message or a traceback, as the sandbox keeps
_OUTPUT_CAP = 64 << 10  # characters of printed output kept, the rest counted


class _Invalid(Exception):
    """A result that is not plain numeric data."""


class _CappedText(io.StringIO):
    """A text stream keeping the first `cap` characters and counting the rest."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.left, self.dropped = cap, 0

    def write(self, s: str) -> int:
        text = str(s)
        kept = text[: max(self.left, 0)]
        self.left -= len(kept)
        self.dropped += len(text) - len(kept)
        super().write(kept)
        return len(text)


def _copy(x: Any, depth: int = 0) -> Any:
    """A fresh copy of an argument, as the sandbox's wire delivers it."""
    if isinstance(x, np.ndarray):
        return np.array(x, copy=True)
    if isinstance(x, bool | int | float | np.integer | np.floating):
        return float(x)
    if isinstance(x, list | tuple) and depth < _MAX_DEPTH:
        items = [_copy(v, depth + 1) for v in x]
        return items if isinstance(x, list) else tuple(items)
    raise TypeError(
        "`args` must hold numpy arrays, floats, and lists and tuples of them, "
        f"got `{type(x).__name__}`"
    )


def _number(x: Any) -> bool:
    return type(x) in (bool, int, float) or (
        isinstance(x, np.generic) and type(x).__module__ == "numpy"
    )


def _numbers_only(x: Any, depth: int) -> bool:
    if type(x) in (list, tuple):
        return depth < _MAX_DEPTH and all(_numbers_only(v, depth + 1) for v in x)
    return _number(x)


def _plain(x: Any, where: str, depth: int = 0) -> Any:
    """`x` as plain data (copied), or `_Invalid` with the sandbox's words."""
    kind = type(x)
    if kind is np.ndarray:
        if x.dtype.kind not in _NUMERIC or x.dtype.fields or x.dtype.subdtype:
            raise _Invalid(f"{where} is an array of dtype `{x.dtype}`, not numbers")
        return np.array(x, copy=True)
    if isinstance(x, np.ndarray):
        raise _Invalid(
            f"{where} is an ndarray subclass `{kind.__module__}.{kind.__qualname__}`;"
            " return a plain numpy.ndarray (numpy.asarray(x))"
        )
    if kind in (bool, int, float):
        try:
            return float(x)
        except OverflowError:
            raise _Invalid(f"{where} is an int too large for a float") from None
    if _number(x):
        return _plain(np.asarray(x), where, depth)
    if kind in (list, tuple):
        if _numbers_only(x, depth):
            try:
                return _plain(np.asarray(x), where, depth)
            except ValueError as error:  # ragged nested lists
                raise _Invalid(f"{where} is not a regular array: {error}") from None
        if depth >= _MAX_DEPTH:
            raise _Invalid(f"{where} is nested too deep")
        items = [_plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(x)]
        return items if kind is list else tuple(items)
    if x is None:
        raise _Invalid(f"{where} is `None` (a missing `return`?)")
    raise _Invalid(f"{where} is a `{kind.__module__}.{kind.__qualname__}`, not a numeric array")


def _fingerprint(x: Any) -> Any:
    """What of an argument a call must leave as it was: types, shapes, dtypes, bytes."""
    if type(x) is np.ndarray:
        return x.shape, x.dtype.str, x.tobytes()
    if type(x) in (list, tuple):
        return type(x), [_fingerprint(v) for v in x]
    try:
        return type(x), repr(x)
    except Exception:
        return object()  # equal to nothing: changed


def _failure(error: BaseException) -> tuple[str, str]:
    """The exception's line, and its traceback from the student's frames on."""
    tb = error.__traceback__.tb_next if error.__traceback__ is not None else None
    try:
        if isinstance(error, SystemExit):
            message = f"called sys.exit({error.code!r})"
        else:
            message = "".join(traceback.format_exception_only(error)).strip()
        text = "".join(traceback.format_exception(type(error), error, tb))
    except Exception:  # a hostile __str__
        message, text = f"raised {type(error).__name__}", ""
    return message[:_MAX_TEXT], text[-_MAX_TEXT:]


class InProcessCaller:
    """A `Caller` for the judge that runs the student's functions in this process.

    Parameters
    ----------
    namespace : mapping of str to object
        Where functions are found by name: the notebook's globals.
    bound : mapping of str to callable
        Functions by name that take precedence over `namespace` (the one being checked,
        which may be bound to another name, or to none).
    errstate : mapping of str to str, optional
        numpy's floating-point error handling for the student's calls (`numpy.geterr()`
        when the check started); the judge's own arithmetic keeps numpy's defaults.

    Notes
    -----
    What the functions print (and the warnings they emit) is captured, not shown among
    dozens of calls, and kept in `output` (the first 64 KiB).
    """

    def __init__(
        self,
        namespace: Mapping[str, Any],
        bound: Mapping[str, Callable[..., Any]] | None = None,
        *,
        errstate: Mapping[str, Any] | None = None,
    ) -> None:
        self.namespace = namespace
        self.bound = dict(bound or {})
        self.errstate = dict(errstate if errstate is not None else np.geterr())
        self.calls = 0
        self._output = _CappedText(_OUTPUT_CAP)

    @property
    def output(self) -> str:
        """What the calls printed, on stdout and stderr together, capped."""
        text = self._output.getvalue()
        if self._output.dropped:
            text += f"\n[... {self._output.dropped} more characters not kept]"
        return text

    def function(self, name: str) -> Callable[..., Any] | None:
        found = self.bound.get(name, self.namespace.get(name))
        return found if callable(found) else None

    def call(self, name: str, args: Sequence[Any]) -> Outcome:
        """Call `name` on copies of `args`; the `Outcome` the sandbox would return."""
        function = self.function(name)
        if function is None:
            return Outcome("error", message=f"no function `{name}`")
        copies = [_copy(a) for a in args]
        before = [_fingerprint(a) for a in copies]
        self.calls += 1
        started = time.perf_counter()
        try:
            with (
                contextlib.redirect_stdout(self._output),
                contextlib.redirect_stderr(self._output),
                np.errstate(**self.errstate),
            ):
                result = function(*copies)
        except (Exception, SystemExit) as error:
            message, text = _failure(error)
            return Outcome(
                "error", message=message, traceback=text, seconds=time.perf_counter() - started
            )
        seconds = time.perf_counter() - started
        mutated = [i for i, a in enumerate(copies) if _fingerprint(a) != before[i]]
        try:
            value = _plain(result, "the result")
        except _Invalid as error:
            return Outcome("invalid", message=str(error), mutated=mutated, seconds=seconds)
        return Outcome("ok", value, mutated=mutated, seconds=seconds)
