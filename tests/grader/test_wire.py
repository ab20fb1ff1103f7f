"""The checker's side of the worker protocol: whatever bytes come back, only data or `Malformed`."""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.grader.sandbox import _wire


def npy(array: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def header_npy(descr: str, shape: str, data: bytes = b"") -> bytes:
    text = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}".encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def through_a_pipe(data: bytes, max_bytes: int = 1 << 20) -> tuple[dict[str, Any], list[bytes]]:
    read, write = os.pipe()

    def writer() -> None:
        with contextlib.suppress(BrokenPipeError), os.fdopen(write, "wb") as stream:
            stream.write(data)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        return _wire.receive(read, time.monotonic() + 5, max_bytes)
    finally:
        os.close(read)
        thread.join()


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6.0).reshape(2, 3),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.float32(1.5) * np.ones((2, 1), np.float32),
        np.array(3.0),
        np.zeros((0, 4)),
        np.array([True, False]),
        np.arange(4, dtype=">i2"),
        np.array([1 + 2j]),
    ],
    ids=["float64", "fortran", "float32", "0-d", "empty", "bool", "big-endian", "complex"],
)
def test_numeric_arrays_come_back_equal(array: np.ndarray[Any, Any]) -> None:
    blobs: list[bytes] = []
    tree = _wire.encode([array, (1.0, [2.0])], blobs)
    got, (one, [two]) = _wire.decode(tree, blobs)
    np.testing.assert_array_equal(got, array)
    assert got.dtype == array.dtype and got.flags.writeable
    assert (one, two) == (1.0, 2.0)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (npy(np.array([object()], dtype=object)), "dtype `object`"),
        (npy(np.array(["a"])), "dtype `<U1`, not numbers"),
        (npy(np.zeros(2, dtype=[("x", "f8")])), "not numbers"),
        (npy(np.array(["2026-11-28"], dtype="M8[D]")), "not numbers"),
        (b"PK\x03\x04" + b"\0" * 60, "not in .npy format"),
        (header_npy("'<f8'", "(-1, 0)"), "an array of shape (-1, 0)"),
        (header_npy("'<f8'", "(2,)", b"\0" * 8), "with 8 bytes of data"),
        (header_npy("'<f8'", "(" * 3000 + ")" * 3000), "header numpy refuses"),
        (header_npy("__import__('os')", "(1,)"), "header numpy refuses"),
    ],
    ids=["object", "str", "structured", "datetime", "npz", "negative", "short", "deep", "code"],
)
def test_what_is_not_a_plain_numeric_array_is_malformed(blob: bytes, message: str) -> None:
    with pytest.raises(_wire.Malformed, match=re.escape(message)):
        _wire.decode({"array": 0}, [blob])


@pytest.mark.parametrize(
    "tree",
    [{"array": 1}, {"array": True}, {"float": "1"}, {"list": {}}, {"tuple": [], "x": 1}, [], None],
)
def test_a_value_tree_out_of_shape_is_malformed(tree: Any) -> None:
    with pytest.raises(_wire.Malformed, match="not a value"):
        _wire.decode(tree, [npy(np.zeros(1))])


@given(st.binary(max_size=200))
def test_any_bytes_read_back_are_a_frame_or_refused(data: bytes) -> None:
    try:
        header, blobs = through_a_pipe(data)
    except (_wire.Malformed, EOFError):
        return
    assert isinstance(header, dict) and all(isinstance(b, bytes) for b in blobs)


@given(st.binary(max_size=300), st.sampled_from([b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b""]))
def test_any_blob_is_a_numeric_array_or_refused(data: bytes, magic: bytes) -> None:
    try:
        array = _wire.decode({"array": 0}, [magic + data])
    except _wire.Malformed:
        return
    assert type(array) is np.ndarray and array.dtype.kind in "biufc"


def test_a_frame_is_read_whole_and_checked() -> None:
    body = b'{"status": "ok", "blobs": [3]}'
    frame = len(body).to_bytes(4, "big") + body + b"abc"
    header, blobs = through_a_pipe(len(frame).to_bytes(8, "big") + frame)
    assert (header["status"], blobs) == ("ok", [b"abc"])
    with pytest.raises(_wire.Malformed, match="a frame of 1152921504606846976 bytes"):
        through_a_pipe((1 << 60).to_bytes(8, "big"))
    with pytest.raises(_wire.Malformed, match="do not add up"):
        through_a_pipe((len(frame) + 1).to_bytes(8, "big") + frame + b"d")
    big = (2 << 20).to_bytes(4, "big") + b" " * (2 << 20)
    with pytest.raises(_wire.Malformed, match="a header of 2097152 bytes"):
        through_a_pipe(len(big).to_bytes(8, "big") + big, max_bytes=4 << 20)
    with pytest.raises(EOFError):
        through_a_pipe(len(frame).to_bytes(8, "big") + frame[:-1])


def test_a_silent_worker_times_out() -> None:
    read, write = os.pipe()
    try:
        with pytest.raises(_wire.Timeout):
            _wire.receive(read, time.monotonic() + 0.05, 1 << 20)
    finally:
        os.close(read)
        os.close(write)


def test_a_blob_named_many_times_is_refused_before_it_is_copied() -> None:
    blobs = [npy(np.zeros(1000))]
    tree = {"list": [{"array": 0}] * 100}
    assert len(_wire.decode(tree, blobs)) == 100
    with pytest.raises(_wire.Malformed, match="arrays hold 812808 bytes"):
        _wire.decode(tree, blobs, max_bytes=800_000)


@pytest.mark.parametrize("shape", ["(True, 1)", "(1.5,)", "('a',)", "[2]"])
def test_a_forged_shape_is_malformed(shape: str) -> None:
    blob = header_npy("'<f8'", shape, bytes(8))
    with pytest.raises(_wire.Malformed):
        _wire.decode({"array": 0}, [blob])
