"""The transport codec: exact round trips, and malformed frames rejected before allocation."""

from __future__ import annotations

import json
import os
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amdlib.core.sandbox import codec


def _roundtrip(header: dict, arrays: dict | None = None, **kw) -> tuple[dict, dict]:
    r, w = os.pipe()
    try:
        payload = b"".join(bytes(p) for p in codec.encode(header, arrays))
        os.write(w, payload)
        return codec.read_message(r, max_body=1 << 20, **kw)
    finally:
        os.close(r)
        os.close(w)


def _raw(frame: bytes, max_body: int = 1 << 20) -> tuple[dict, dict]:
    r, w = os.pipe()
    try:
        os.write(w, frame)
        os.close(w)
        w = -1
        return codec.read_message(r, max_body=max_body)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def _frame(header: dict, body: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return struct.pack("<4sIQ", codec.MAGIC, len(head), len(body)) + head + body


def test_roundtrip_types_shapes_and_dtypes() -> None:
    arrays = {"f": np.arange(6.0).reshape(2, 3)[:, ::2], "i": np.array([1, -2], dtype=np.int32),
              "b": np.array([True, False]), "s": np.float64(2.5), "e": np.zeros((0, 4))}
    header, out = _roundtrip({"kind": "x", "n": 3}, arrays)
    assert header == {"kind": "x", "n": 3}
    assert out["f"].tolist() == [[0.0, 2.0], [3.0, 5.0]] and out["f"].dtype == np.float64
    assert out["i"].tolist() == [1, -2] and out["i"].dtype == np.int64
    assert out["b"].tolist() == [True, False] and out["s"].shape == () and float(out["s"]) == 2.5
    assert out["e"].shape == (0, 4)


def test_readonly_arrays_cannot_be_made_writeable() -> None:
    _, out = _roundtrip({}, {"x": np.arange(3.0)}, readonly=True)
    with pytest.raises(ValueError):
        out["x"][0] = 1.0
    with pytest.raises(ValueError):
        out["x"].flags.writeable = True


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(allow_nan=True), max_size=50), st.lists(st.integers(-2**63, 2**63 - 1), max_size=20))
def test_roundtrip_property(floats: list[float], ints: list[int]) -> None:
    _, out = _roundtrip({}, {"f": np.array(floats, dtype=float), "i": np.array(ints, dtype=np.int64)})
    np.testing.assert_array_equal(out["f"], np.array(floats, dtype=float))
    assert out["i"].tolist() == ints


@pytest.mark.parametrize("value", [np.array(["a"]), np.array([None], dtype=object), np.array([1j])])
def test_unsupported_dtypes_are_refused(value: np.ndarray) -> None:
    with pytest.raises(TypeError):
        codec.encode({}, {"x": value})


@pytest.mark.parametrize(("frame", "message"), [
    (b"EVIL" + b"\0" * 12, "bad magic"),
    (struct.pack("<4sIQ", codec.MAGIC, 2**31, 0), "header too large"),
    (struct.pack("<4sIQ", codec.MAGIC, 2, 2**40) + b"{}", "exceeds"),
    (struct.pack("<4sIQ", codec.MAGIC, 10, 0) + b"{}", "pipe closed"),
    (_frame({"arrays": [["x", "f8", [4], 0]]}, b"\0" * 8), "outside"),
    (_frame({"arrays": [["x", "O", [1], 0]]}, b"\0" * 8), "dtype"),
    (_frame({"arrays": [["x", "f8", [-1], 0]]}, b"\0" * 8), "shape"),
    (_frame({"arrays": [["x", "f8", [1], 3]]}, b"\0" * 16), "outside"),
    (_frame({"arrays": [["x", "f8", [1], 0], ["x", "f8", [1], 0]]}, b"\0" * 8), "name"),
    (_frame({"arrays": "nope"}), "array list"),
    (struct.pack("<4sIQ", codec.MAGIC, 3, 0) + b"[1]", "not an object"),
    (struct.pack("<4sIQ", codec.MAGIC, 2, 0) + b"{x", "bad header"),
])
def test_malformed_frames_raise_protocol_error(frame: bytes, message: str) -> None:
    with pytest.raises(codec.ProtocolError, match=message):
        _raw(frame)


def test_read_deadline() -> None:
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        started = time.monotonic()
        with pytest.raises(codec.Timeout):
            codec.read_message(r, max_body=0, deadline=time.monotonic() + 0.2)
        assert 0.15 < time.monotonic() - started < 2.0
    finally:
        os.close(r)
        os.close(w)
