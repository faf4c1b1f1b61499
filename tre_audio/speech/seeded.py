"""Piper's speech made repeatable: the same sentence is the same audio.

A Piper model samples its noise inside the graph (two ``RandomNormalLike`` nodes: one
for the length of each sound, one for the sound itself) from a generator onnxruntime
seeds once per session and carries from run to run, so a sentence's audio depends on
what was spoken before it, and on which thread spoke it. Here each such node is
rewritten to read its noise from an input instead, and each sentence is fed noise
chosen by its own phonemes and scales. The noise is of the same kind as before
(normal, independent values, at the node's mean and scale); only where it comes from
changes. A node whose type is not given as float, or one inside a subgraph, is left to
onnxruntime, and its voice stays unrepeatable: Piper's voices have neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import onnx_wire as wire

SEED = 0
"""Mixed into every sentence's seed; another value is another take of every sentence."""
FRAMES_PER_PHONEME = 12.0
"""Frames of noise fed for each phoneme id at a length scale of 1 (more in proportion
at slower scales). joe at the narration's pace (1.6) spends 3 to 6.5 frames on an id,
short words the most; a node that needs more reads its noise again from the start."""
FRAME = 192
"""Noise values a frame of a Piper voice's sound takes."""
MOST_NODES = 4
"""The most random nodes a model may have (Piper's have 2): each costs a bank."""
_PREFIX = "tre_audio_noise_"
_RANDOM = b"RandomNormalLike"
_NODE_SIZE = 1 << 16
"""Bytes past which a node is not looked into: a random node takes about a hundred."""
BANK = 1 << 21
"""Noise values drawn once for each input (8 MB); a sentence reads a stretch of them."""


def rewritten(model: bytes) -> tuple[bytes, tuple[str, ...]]:
    """``model`` with each random normal node reading an input of noise instead, and the
    names of those inputs (none: ``model`` unchanged). ``onnx_wire.Malformed`` if it is
    not a model."""
    top = list(wire.fields(model))
    graphs = [f for f in top if f.number == wire.MODEL_GRAPH]
    if len(graphs) != 1:
        return model, ()
    parts: list[bytes | memoryview] = []
    added: list[bytes] = []
    names: list[str] = []
    for field in wire.fields(wire.as_bytes(graphs[0])):
        drawn = (_drawn(wire.as_bytes(field)) if field.number == wire.GRAPH_NODE
                 and len(field.raw) < _NODE_SIZE and _RANDOM in field.raw.tobytes() else None)
        if drawn is None:
            parts.append(field.raw)
            continue
        if len(names) == MOST_NODES:
            raise wire.Malformed(f"more than {MOST_NODES} random nodes (a Piper voice has 2)")
        name = f"{_PREFIX}{len(names)}"
        names.append(name)
        parts += [wire.message(wire.GRAPH_NODE, node) for node in _reading(name, *drawn)]
        at = f"/{name}/"
        added += [wire.message(wire.GRAPH_INITIALIZER, wire.int64_tensor(at + "one", [1])),
                  wire.message(wire.GRAPH_INITIALIZER, wire.int64_tensor(at + "zero", [0])),
                  wire.message(wire.GRAPH_INITIALIZER, wire.float_tensor(at + "mean", [drawn[2]])),
                  wire.message(wire.GRAPH_INITIALIZER, wire.float_tensor(at + "scale", [drawn[3]])),
                  wire.message(wire.GRAPH_INPUT, wire.float_vector_input(name))]
    if not names:
        return model, ()
    parts += added  # after the graph's own inputs, in the order of the nodes
    whole: list[bytes | memoryview] = []
    for field in top:
        whole += wire.message_parts(wire.MODEL_GRAPH, parts) if field is graphs[0] else [field.raw]
    return b"".join(whole), tuple(names)


def _drawn(node: memoryview) -> tuple[str, str, float, float] | None:
    """The input and output, mean and scale of ``node`` (a ``NodeProto``) if it draws
    normal float noise shaped like its input (the only kind rewritten), else None. Its
    dtype must be given as float: without one it takes its input's, which may not be."""
    fields = list(wire.fields(node))
    if [wire.text(f) for f in fields if f.number == wire.NODE_OP_TYPE] != ["RandomNormalLike"]:
        return None
    inputs = [wire.text(f) for f in fields if f.number == wire.NODE_INPUT]
    outputs = [wire.text(f) for f in fields if f.number == wire.NODE_OUTPUT]
    found: dict[str, float] = {"mean": 0.0, "scale": 1.0}
    for attribute in (f for f in fields if f.number == wire.NODE_ATTRIBUTE):
        values = list(wire.fields(wire.as_bytes(attribute)))
        name = next((wire.text(f) for f in values if f.number == wire.ATTRIBUTE_NAME), "")
        if name == "dtype":
            found[name] = next((wire.as_int(f) for f in values
                                if f.number == wire.ATTRIBUTE_INT), -1)
        elif name in ("mean", "scale"):
            found[name] = next((wire.as_float(f) for f in values
                                if f.number == wire.ATTRIBUTE_FLOAT), found[name])
        # a seed changes nothing once the noise is fed in
    if found.get("dtype") != wire.FLOAT or len(inputs) != 1 or len(outputs) != 1:
        return None
    return inputs[0], outputs[0], found["mean"], found["scale"]


def _reading(name: str, shaped_like: str, output: str, mean: float, scale: float
             ) -> list[bytes]:
    """Nodes that give ``output`` the shape of ``shaped_like``, filled row by row from
    the one-dimensional input ``name`` (read again from its start if it is short), times
    ``scale`` plus ``mean``."""
    at = f"/{name}/"
    return [
        wire.node("Shape", [shaped_like], [at + "shape"]),
        wire.node("ReduceProd", [at + "shape"], [at + "count"], {"keepdims": 1}),
        wire.node("Shape", [name], [at + "have"]),
        wire.node("Add", [at + "count", at + "have"], [at + "sum"]),
        wire.node("Sub", [at + "sum", at + "one"], [at + "rounded"]),
        wire.node("Div", [at + "rounded", at + "have"], [at + "times"]),
        wire.node("Tile", [name, at + "times"], [at + "tiled"]),
        wire.node("Slice", [at + "tiled", at + "zero", at + "count"], [at + "flat"]),
        wire.node("Reshape", [at + "flat", at + "shape"], [at + "normal"]),
        wire.node("Mul", [at + "normal", at + "scale"], [at + "scaled"]),
        wire.node("Add", [at + "scaled", at + "mean"], [output]),
    ]


def identity() -> str:
    """What names this way of drawing noise in a clip's key: clips from before it, or
    from another ``SEED``, are other audio."""
    return f"noise-by-sentence-{SEED}"


class SeededSession:
    """An onnxruntime session over a ``rewritten`` model that feeds each run the noise
    its inputs call for, chosen by the run's own inputs.

    Each input has a bank of noise drawn once; a sentence reads a stretch of it that
    starts where its phonemes and scales say, so the same sentence reads the same noise
    whatever was spoken before it, on any thread, at no cost of drawing."""

    def __init__(self, session: Any, names: Sequence[str]) -> None:
        self.session = session
        self.names = tuple(names)
        self.banks = [np.random.default_rng([SEED, index]).standard_normal(BANK, np.float32)
                      for index in range(len(self.names))]

    def run(self, outputs: Sequence[str] | None, feed: Mapping[str, np.ndarray]) -> Any:
        digest = hashlib.blake2b(digest_size=8)
        for key in sorted(feed):
            value = np.ascontiguousarray(feed[key]).tobytes()
            digest.update(f"{key}\0{len(value)}\0".encode() + value)
        seed = int.from_bytes(digest.digest(), "little")
        length_scale = float(np.ravel(feed["scales"])[1]) if "scales" in feed else 1.0
        frames = FRAMES_PER_PHONEME * min(max(1.0, length_scale), 4.0)
        count = int(max(1, feed["input"].size) * frames) * FRAME
        noise = {}
        for index, (name, bank) in enumerate(zip(self.names, self.banks)):
            draw = np.random.default_rng([SEED, seed, index])
            if count > BANK:  # a very long sentence: its own noise, drawn now
                noise[name] = draw.standard_normal(count, np.float32)
            else:
                start = int(draw.integers(0, BANK - count + 1))
                noise[name] = bank[start:start + count]
        return self.session.run(outputs, {**feed, **noise})
