"""The little of an ONNX model's protocol-buffer encoding ``seeded`` needs to rewrite one.

A model is a ``ModelProto`` in protobuf's wire format: fields, each a key (number and
wire type) and a value. Reading walks a message's fields without decoding the rest, so
the voice's weights are carried over as bytes; writing makes the few messages a rewrite
adds. Field numbers are those of ``onnx/onnx.proto``, which ONNX keeps stable.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5
MODEL_GRAPH = 7
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT = 1, 5, 11
NODE_INPUT, NODE_OUTPUT, NODE_OP_TYPE, NODE_ATTRIBUTE = 1, 2, 4, 5
ATTRIBUTE_NAME, ATTRIBUTE_FLOAT, ATTRIBUTE_INT, ATTRIBUTE_TYPE = 1, 2, 3, 20
ATTRIBUTE_INT_TYPE = 2
TENSOR_DIMS, TENSOR_DATA_TYPE, TENSOR_NAME, TENSOR_RAW_DATA = 1, 2, 8, 9
FLOAT, INT64 = 1, 7
"""``TensorProto.DataType`` values."""


class Malformed(ValueError):
    """The bytes are not a protobuf message."""


@dataclass(frozen=True)
class Field:
    number: int
    wire: int
    value: int | memoryview
    """A varint's or fixed value's integer, or a length-delimited field's bytes."""
    raw: memoryview
    """The whole field as it was encoded, key included."""


MOST_FIELDS = 200_000
"""The most fields a message may have: a Piper voice's graph has about 25,000. A crafted
file of millions of tiny fields would otherwise cost gigabytes of views to carry over."""


def fields(data: bytes | memoryview) -> Iterator[Field]:
    """The fields of the message ``data``, in order (views into it, not copies)."""
    at = count = 0
    view = memoryview(data)
    while at < len(data):
        count += 1
        if count > MOST_FIELDS:
            raise Malformed(f"a message of more than {MOST_FIELDS:,} fields")
        start = at
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | memoryview
        if wire == VARINT:
            value, at = _varint(data, at)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if at + size > len(data):
                raise Malformed("a fixed-size field runs past the end")
            value, at = int.from_bytes(data[at:at + size], "little"), at + size
        elif wire == BYTES:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise Malformed("a length-delimited field runs past the end")
            value, at = view[at:at + size], at + size
        else:
            raise Malformed(f"wire type {wire} is not used by ONNX")
        if number == 0:
            raise Malformed("field number 0")
        yield Field(number, wire, value, view[start:at])


def opens_a_message(head: bytes) -> bool:
    """Whether ``head``, the first bytes of a file, can begin a message: a valid key of
    a field numbered as ONNX numbers them. Refuses zeros or text before a large file is
    read whole."""
    try:
        key, _ = _varint(head, 0)
    except Malformed:
        return False
    return 0 < key >> 3 < 64 and key & 7 in (VARINT, FIXED64, BYTES, FIXED32)


def _varint(data: bytes | memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise Malformed("a varint runs past the end")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def text(field: Field) -> str:
    return bytes(as_bytes(field)).decode("utf-8", "replace")


def as_bytes(field: Field) -> memoryview:
    if not isinstance(field.value, memoryview):
        raise Malformed(f"field {field.number} is not length-delimited")
    return field.value


def as_int(field: Field) -> int:
    if field.wire != VARINT or not isinstance(field.value, int):
        raise Malformed(f"field {field.number} is not an integer")
    return field.value


def as_float(field: Field) -> float:
    if field.wire != FIXED32 or not isinstance(field.value, int):
        raise Malformed(f"field {field.number} is not a float")
    value: float = struct.unpack("<f", field.value.to_bytes(4, "little"))[0]
    return value


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as two's complement, as protobuf writes them
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def message(number: int, payload: bytes) -> bytes:
    """A length-delimited field: a string, bytes or an embedded message."""
    return key(number, BYTES) + varint(len(payload)) + payload


def message_parts(number: int, parts: Sequence[bytes | memoryview]) -> list[bytes | memoryview]:
    """``message`` of the joined ``parts``, as parts: a large message is joined once."""
    return [key(number, BYTES), varint(sum(len(part) for part in parts)), *parts]


def integer(number: int, value: int) -> bytes:
    return key(number, VARINT) + varint(value)


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str],
         ints: dict[str, int] | None = None) -> bytes:
    """A ``NodeProto``, with integer attributes ``ints``."""
    body = b"".join(message(NODE_INPUT, name.encode()) for name in inputs)
    body += b"".join(message(NODE_OUTPUT, name.encode()) for name in outputs)
    body += message(NODE_OP_TYPE, op_type.encode())
    for name, value in (ints or {}).items():
        body += message(NODE_ATTRIBUTE, message(ATTRIBUTE_NAME, name.encode())
                        + integer(ATTRIBUTE_INT, value)
                        + integer(ATTRIBUTE_TYPE, ATTRIBUTE_INT_TYPE))
    return body


def int64_tensor(name: str, values: Sequence[int]) -> bytes:
    """A one-dimensional ``TensorProto`` of int64 ``values``."""
    return (integer(TENSOR_DIMS, len(values)) + integer(TENSOR_DATA_TYPE, INT64)
            + message(TENSOR_NAME, name.encode())
            + message(TENSOR_RAW_DATA, struct.pack(f"<{len(values)}q", *values)))


def float_tensor(name: str, values: Sequence[float]) -> bytes:
    """A one-dimensional ``TensorProto`` of float ``values``."""
    return (integer(TENSOR_DIMS, len(values)) + integer(TENSOR_DATA_TYPE, FLOAT)
            + message(TENSOR_NAME, name.encode())
            + message(TENSOR_RAW_DATA, struct.pack(f"<{len(values)}f", *values)))


def float_vector_input(name: str) -> bytes:
    """A ``ValueInfoProto``: a one-dimensional float tensor of any length."""
    dimension = message(1, b"")  # TensorShapeProto.dim, with no value or name: unknown
    tensor = integer(1, FLOAT) + message(2, dimension)  # TypeProto.Tensor: elem_type, shape
    return message(1, name.encode()) + message(2, message(1, tensor))  # name, TypeProto
