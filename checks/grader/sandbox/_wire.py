"""The checker's side of the worker protocol: frames of JSON and `.npy` bytes, no pickle.

A frame is an 8-byte big-endian length, then a 4-byte length and a JSON header, then
the arrays the header's ``blobs`` lists, as `.npy` bytes. Values are trees of
``{"array": i}``, ``{"float": x}``, ``{"list": [...]}`` and ``{"tuple": [...]}``.
Everything read here comes from a process the submission controls: every field is
checked, arrays are parsed by hand from their `.npy` header (never `numpy.load`, never
unpickled) and must have a numeric dtype.
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import struct
import time
from typing import Any

import numpy as np

__all__ = [
    "Malformed",
    "Timeout",
    "decode",
    "encode",
    "indices",
    "names",
    "receive",
    "send",
    "text",
]

_FRAME = struct.Struct(">Q")
_HEADER = struct.Struct(">I")
_NUMERIC = "biufc"
_MAX_DEPTH = 8
_MAX_JSON = 1 << 20
_MAX_NODES = 100_000  # values in one reply's tree
_MAGIC = b"\x93NUMPY"


class Malformed(Exception):
    """The worker sent something that is not a well-formed reply."""


class Timeout(Exception):
    """The deadline passed before the worker read or answered."""


def encode(x: Any, blobs: list[bytes], depth: int = 0) -> dict[str, Any]:
    """An argument as a value tree, its arrays appended to `blobs` as `.npy` bytes."""
    if isinstance(x, np.ndarray):
        array = np.asarray(x)
        if array.dtype.kind not in _NUMERIC or array.dtype.fields or array.dtype.subdtype:
            raise TypeError(f"`args` must hold numeric arrays, got dtype `{array.dtype}`")
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array, allow_pickle=False)
        blobs.append(buffer.getvalue())
        return {"array": len(blobs) - 1}
    if isinstance(x, bool | int | float | np.integer | np.floating):
        return {"float": float(x)}
    if isinstance(x, list | tuple) and depth < _MAX_DEPTH:
        key = "list" if isinstance(x, list) else "tuple"
        return {key: [encode(v, blobs, depth + 1) for v in x]}
    raise TypeError(
        "`args` must hold numpy arrays, floats, and lists and tuples of them,"
        f" got `{type(x).__name__}`"
    )


def decode(tree: Any, blobs: list[bytes], max_bytes: int = 64 << 20) -> Any:
    """A value tree from the worker as plain arrays, floats, lists and tuples.

    The whole tree is checked before any array is copied, and the arrays it makes may
    hold `max_bytes` in all: a tree that names one blob many times is refused, not
    copied many times over (each array is the checker's own copy, by design).
    """
    total = _check(tree, blobs, 0, [0])
    if total > max_bytes:
        raise Malformed(f"a reply whose arrays hold {total} bytes (at most {max_bytes})")
    return _decode(tree, blobs)


def _check(tree: Any, blobs: list[bytes], depth: int, nodes: list[int]) -> int:
    """The bytes `tree`'s arrays would take, once every node of it is checked."""
    nodes[0] += 1
    if type(tree) is not dict or len(tree) != 1 or depth > _MAX_DEPTH or nodes[0] > _MAX_NODES:
        raise Malformed(f"not a value: `{tree!r:.60}`")
    ((key, item),) = tree.items()
    if key == "array" and type(item) is int and 0 <= item < len(blobs):
        return len(blobs[item])
    if key == "float" and type(item) in (int, float):
        if type(item) is int and abs(item) > 1 << 1023:
            raise Malformed(f"a number too large for a float: `{item!r:.60}`")
        return 8
    if key in ("list", "tuple") and type(item) is list:
        return 8 + sum(_check(t, blobs, depth + 1, nodes) for t in item)
    raise Malformed(f"not a value: `{tree!r:.60}`")


def _decode(tree: dict[str, Any], blobs: list[bytes]) -> Any:
    ((key, item),) = tree.items()
    if key == "array":
        return _array(blobs[item])
    if key == "float":
        return float(item)
    items = [_decode(t, blobs) for t in item]
    return items if key == "list" else tuple(items)


def _array(blob: bytes) -> np.ndarray[Any, Any]:
    if not blob.startswith(_MAGIC):
        raise Malformed("an array that is not in .npy format")
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise Malformed(f"an .npy version `{version}`")
    except Malformed:
        raise
    except Exception as error:  # numpy's parser of untrusted text: refuse whatever it raises
        raise Malformed(f"an .npy header numpy refuses: {error!r:.200}") from None
    if type(fortran) is not bool or not isinstance(dtype, np.dtype):
        raise Malformed("an .npy header with a forged order or dtype")
    if dtype.kind not in _NUMERIC or dtype.fields or dtype.subdtype or dtype.hasobject:
        raise Malformed(f"an array of dtype `{dtype}`, not numbers")
    if type(shape) is not tuple or len(shape) > 32 or any(type(n) is not int for n in shape):
        raise Malformed(f"an array of shape `{shape!r:.60}`")
    if any(n < 0 for n in shape):
        raise Malformed(f"an array of shape {shape}")
    data = blob[stream.tell() :]
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise Malformed(f"an array of shape {shape} with {len(data)} bytes of data")
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape))
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def indices(value: Any, n: int) -> list[int]:
    """Argument indices from the worker, each checked to be in `range(n)`."""
    if type(value) is not list or any(type(i) is not int or not 0 <= i < n for i in value):
        raise Malformed(f"not a list of argument indices: `{value!r:.60}`")
    return sorted(set(value))


def names(value: Any) -> list[str]:
    """Names from the worker, each checked to be a str."""
    if type(value) is not list or any(type(s) is not str for s in value):
        raise Malformed(f"not a list of names: `{value!r:.60}`")
    return [s[:200] for s in value]


def text(value: Any, limit: int) -> str:
    """A message from the worker, checked to be a str (or None) and cut at `limit`."""
    if value is None:
        return ""
    if type(value) is not str:
        raise Malformed(f"not a text: `{value!r:.60}`")
    return value if len(value) <= limit else value[:limit] + " [...]"


def send(fd: int, header: dict[str, Any], blobs: list[bytes], deadline: float) -> None:
    """Write one frame to `fd` before `deadline`, or raise `Timeout`."""
    payload = json.dumps(dict(header, blobs=[len(b) for b in blobs])).encode()
    body = b"".join([_HEADER.pack(len(payload)), payload, *blobs])
    view = memoryview(_FRAME.pack(len(body)) + body)
    os.set_blocking(fd, False)
    while view:
        _wait(fd, deadline, write=True)
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue


def receive(fd: int, deadline: float, max_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """Read one frame from `fd` before `deadline`.

    Raises
    ------
    Timeout
        If the deadline passes first.
    EOFError
        If the worker closed its end (it ended).
    Malformed
        If the bytes are not a frame of at most `max_bytes`.
    """
    (size,) = _FRAME.unpack(_read(fd, _FRAME.size, deadline))
    if not _HEADER.size <= size <= max_bytes:
        raise Malformed(f"a frame of {size} bytes")
    body = _read(fd, size, deadline)
    (json_size,) = _HEADER.unpack_from(body)
    if json_size > _MAX_JSON:  # parsed into Python objects: many times its size
        raise Malformed(f"a header of {json_size} bytes")
    try:
        header = json.loads(body[_HEADER.size : _HEADER.size + json_size])
    except (ValueError, RecursionError) as error:
        raise Malformed(f"a header that is not JSON: {error}") from None
    sizes = header.get("blobs") if isinstance(header, dict) else None
    if type(sizes) is not list or any(type(n) is not int or n < 0 for n in sizes):
        raise Malformed(f"a header without its list of arrays: `{header!r:.60}`")
    at = _HEADER.size + json_size
    if at + sum(sizes) != size:
        raise Malformed("a frame whose arrays do not add up to its length")
    blobs = []
    for n in sizes:
        blobs.append(body[at : at + n])
        at += n
    return header, blobs


def _read(fd: int, n: int, deadline: float) -> bytes:
    chunks, left = [], n
    while left:
        _wait(fd, deadline, write=False)
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _wait(fd: int, deadline: float, *, write: bool) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Timeout
    ready = select.select([], [fd], [], left) if write else select.select([fd], [], [], left)
    if not any(ready):
        raise Timeout
