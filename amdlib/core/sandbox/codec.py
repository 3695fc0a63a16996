"""Safe message transport between the parent and a sandbox worker.

A frame is ``MAGIC | u32 header length | u64 body length | JSON header | body``.
The header is a JSON object; arrays travel in the body as raw little-endian
bytes described by ``header["arrays"] = [[name, dtype, shape, offset], ...]``.
Only float64, int64 and bool arrays exist on the wire, and every length is
checked against caps *before* anything is allocated, so decoding a message
from a compromised worker can fail (``ProtocolError``) but never executes
anything (no pickle) or exhausts the parent's memory.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from typing import Any, Callable, Mapping

import numpy as np

MAGIC = b"AMDS"
_PREFIX = struct.Struct("<4sIQ")
#: Wire dtype name -> numpy dtype.
DTYPES: dict[str, np.dtype] = {"f8": np.dtype("<f8"), "i8": np.dtype("<i8"), "b1": np.dtype("?")}
_ALIGN = 8
MAX_HEADER_BYTES = 4 << 20
MAX_NDIM = 32
MAX_ARRAYS = 256
_IOV_MAX = 1024  # Linux's limit on writev pieces


class ProtocolError(Exception):
    """A malformed, oversized or truncated message (or a closed pipe)."""


class EmptyMessage(ProtocolError):
    """The pipe closed before the first byte of a message (the writer died or said nothing)."""


class Timeout(Exception):
    """The deadline passed while reading or writing a message."""


class OverBudget(Exception):
    """A message body the reader's ``admit`` refused (before it was allocated)."""

    def __init__(self, nbytes: int) -> None:
        super().__init__(f"message body of {nbytes} bytes not admitted")
        self.nbytes = nbytes


def wire_array(value: Any) -> np.ndarray:
    """Convert ``value`` to a C-contiguous float64/int64/bool array, or raise TypeError."""
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "b":
        target = DTYPES["b1"]
    elif kind in "iu":
        if kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise TypeError("unsigned values do not fit in int64")
        target = DTYPES["i8"]
    elif kind == "f":
        target = DTYPES["f8"]
    else:
        raise TypeError(f"unsupported dtype {arr.dtype}")
    return np.asarray(arr, dtype=target, order="C")


def _wire_name(dtype: np.dtype) -> str:
    for name, dt in DTYPES.items():
        if dt == dtype:
            return name
    raise TypeError(f"unsupported dtype {dtype}")


def encode(header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None) -> list[bytes | memoryview]:
    """Frame ``header`` and ``arrays`` (already wire arrays) as a list of byte pieces."""
    specs: list[list[Any]] = []
    pieces: list[bytes | memoryview] = []
    offset = 0
    for name, arr in (arrays or {}).items():
        if not isinstance(name, str):
            raise TypeError("array names must be strings")
        arr = wire_array(arr)
        pad = (-offset) % _ALIGN
        if pad:
            pieces.append(b"\0" * pad)
            offset += pad
        specs.append([name, _wire_name(arr.dtype), list(arr.shape), offset])
        if arr.nbytes:
            pieces.append(memoryview(arr).cast("B"))
        offset += arr.nbytes
    head = json.dumps({**header, "arrays": specs}, allow_nan=False).encode()
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError("header too large")
    return [_PREFIX.pack(MAGIC, len(head), offset), head, *pieces]


def decode_arrays(specs: Any, body: memoryview) -> dict[str, np.ndarray]:
    """Validate array specs against ``body`` and build the arrays as views of it.

    The layout must be exactly the one ``encode`` writes: arrays in order,
    each at the next 8-byte boundary, no overlap, no bytes left over. A
    read-only ``body`` gives arrays whose WRITEABLE flag cannot be turned
    back on (the worker keeps payloads that candidates cannot modify).
    """
    if not isinstance(specs, list) or len(specs) > MAX_ARRAYS:
        raise ProtocolError("bad array list")
    out: dict[str, np.ndarray] = {}
    end = 0
    for spec in specs:
        if not (isinstance(spec, list) and len(spec) == 4):
            raise ProtocolError("bad array spec")
        name, dname, shape, offset = spec
        if not isinstance(name, str) or len(name) > 200 or name in out:
            raise ProtocolError("bad array name")
        if not isinstance(dname, str) or dname not in DTYPES or not isinstance(shape, list) or len(shape) > MAX_NDIM:
            raise ProtocolError("bad array dtype or shape")
        if not all(type(d) is int and 0 <= d < 1 << 48 for d in shape) or type(offset) is not int:
            raise ProtocolError("bad array shape or offset")
        dtype = DTYPES[dname]
        nbytes = math.prod(shape) * dtype.itemsize
        if offset != end + (-end) % _ALIGN or offset + nbytes > len(body):
            raise ProtocolError("array outside its place in the message body")
        end = offset + nbytes
        if nbytes == 0:
            arr = np.zeros(shape, dtype=dtype)
            arr.flags.writeable = not body.readonly
        else:
            arr = np.frombuffer(body, dtype=dtype, count=nbytes // dtype.itemsize, offset=offset)
        out[name] = arr.reshape(shape)
    if end != len(body):
        raise ProtocolError("bytes left over in the message body")
    return out


def _wait(fd: int, event: int, deadline: float | None) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Timeout()
    poller = select.poll()
    poller.register(fd, event)
    if not poller.poll(max(1, int(remaining * 1000) + 1)) and time.monotonic() >= deadline:
        raise Timeout()


def wait_readable(fd: int, deadline: float) -> None:
    """Block until ``fd`` is readable (or closed); ``Timeout`` after ``deadline``."""
    _wait(fd, select.POLLIN, deadline)


def _read_into(fd: int, buf: memoryview, deadline: float | None, first: bool = False) -> None:
    pos = 0
    while pos < len(buf):
        _wait(fd, select.POLLIN, deadline)
        try:
            # readv fills the buffer in place and, unlike io.FileIO, raises no audit event.
            got = os.readv(fd, [buf[pos:]])
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as err:
            raise ProtocolError(f"read failed: {err}") from None
        if not got:
            raise EmptyMessage("pipe closed") if first and pos == 0 else ProtocolError("pipe closed")
        pos += got


def read_message(fd: int, *, max_body: int, deadline: float | None = None, readonly: bool = False,
                 admit: Callable[[int], bool] | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read one frame from ``fd``; raise ``Timeout``, ``ProtocolError`` or ``OverBudget``.

    ``max_body`` caps the array bytes accepted; the header is capped at
    ``MAX_HEADER_BYTES``; ``admit(body bytes)``, asked before the body is
    allocated, may refuse it (``OverBudget``). The arrays share one fresh
    buffer (no copy); with ``readonly`` they cannot be written.
    """
    prefix = bytearray(_PREFIX.size)
    _read_into(fd, memoryview(prefix), deadline, first=True)
    magic, head_len, body_len = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ProtocolError("bad magic")
    if head_len > MAX_HEADER_BYTES:
        raise ProtocolError("header too large")
    if body_len > max_body:
        raise ProtocolError(f"message body of {body_len} bytes exceeds {max_body}")
    if admit is not None and not admit(body_len):
        raise OverBudget(body_len)
    head = bytearray(head_len)
    _read_into(fd, memoryview(head), deadline)
    body = bytearray(body_len)
    _read_into(fd, memoryview(body), deadline)
    try:
        header = json.loads(head.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise ProtocolError(f"bad header: {type(err).__name__}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not an object")
    view = memoryview(body).toreadonly() if readonly else memoryview(body)
    return header, decode_arrays(header.pop("arrays", []), view)


def write_message(fd: int, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None,
                  deadline: float | None = None) -> None:
    """Write one frame to ``fd`` (non-blocking with ``deadline`` if the fd is non-blocking).

    The pieces go out with ``writev``: one system call, and one wake-up of
    the reader, for a frame that fits in the pipe.
    """
    views = [v for v in (memoryview(p).cast("B") for p in encode(header, arrays)) if v.nbytes]
    while views:
        _wait(fd, select.POLLOUT, deadline)
        try:
            sent = os.writev(fd, views[:_IOV_MAX])
        except BlockingIOError:
            continue
        except (BrokenPipeError, OSError) as err:
            raise ProtocolError(f"write failed: {err}") from None
        while views and sent >= views[0].nbytes:
            sent -= views[0].nbytes
            views.pop(0)
        if sent:
            views[0] = views[0][sent:]
