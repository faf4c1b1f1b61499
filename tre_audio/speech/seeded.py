"""Piper's speech made repeatable: the same sentence is the same audio.

A Piper model samples its noise inside the graph (two ``RandomNormalLike`` nodes: one
for the length of each sound, one for the sound itself) from a generator onnxruntime
seeds once per session and carries from run to run, so a sentence's audio depends on
what was spoken before it, and on which thread spoke it. Here each such node is
rewritten to read its noise from an input instead, and each sentence is fed noise
chosen by its own phonemes and scales. The noise is of the same kind as before
(standard normal, independent values); only where it comes from changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import onnx_wire as wire

SEED = 0
"""Mixed into every sentence's seed; another value is another take of every sentence."""
PER_PHONEME = 8 * 192
"""Noise values fed for each phoneme id: the sound's noise takes 192 a frame, and joe at
the narration's calmest pace spends about 4 frames on a phoneme id. A node that needs
more reads its noise again from the start."""
_PREFIX = "tre_audio_noise_"
_RANDOM = b"RandomNormalLike"
BANK = 1 << 20
"""Noise values drawn once for each input; a sentence reads a stretch of them."""


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
                 and _RANDOM in field.raw.tobytes() else None)
        if drawn is None:
            parts.append(field.raw)
            continue
        name = f"{_PREFIX}{len(names)}"
        names.append(name)
        parts += [wire.message(wire.GRAPH_NODE, node) for node in _reading(name, *drawn)]
        at = f"/{name}/"
        added += [wire.message(wire.GRAPH_INITIALIZER, wire.int64_tensor(at + "one", [1])),
                  wire.message(wire.GRAPH_INITIALIZER, wire.int64_tensor(at + "zero", [0])),
                  wire.message(wire.GRAPH_INPUT, wire.float_vector_input(name))]
    if not names:
        return model, ()
    parts += added  # after the graph's own inputs, in the order of the nodes
    whole: list[bytes | memoryview] = []
    for field in top:
        whole += wire.message_parts(wire.MODEL_GRAPH, parts) if field is graphs[0] else [field.raw]
    return b"".join(whole), tuple(names)


def _drawn(node: memoryview) -> tuple[str, str] | None:
    """The input and output of ``node`` (a ``NodeProto``) if it draws standard normal
    float noise shaped like its input (the only kind rewritten), else None."""
    fields = list(wire.fields(node))
    if [wire.text(f) for f in fields if f.number == wire.NODE_OP_TYPE] != ["RandomNormalLike"]:
        return None
    inputs = [wire.text(f) for f in fields if f.number == wire.NODE_INPUT]
    outputs = [wire.text(f) for f in fields if f.number == wire.NODE_OUTPUT]
    plain = {"dtype": wire.FLOAT, "mean": 0.0, "scale": 1.0}
    for attribute in (f for f in fields if f.number == wire.NODE_ATTRIBUTE):
        values = list(wire.fields(wire.as_bytes(attribute)))
        name = next((wire.text(f) for f in values if f.number == wire.ATTRIBUTE_NAME), "")
        if name == "dtype":
            found: float = next((wire.as_int(f) for f in values
                                 if f.number == wire.ATTRIBUTE_INT), wire.FLOAT)
        elif name in ("mean", "scale"):
            found = next((wire.as_float(f) for f in values
                          if f.number == wire.ATTRIBUTE_FLOAT), plain[name])
        else:
            continue  # a seed changes nothing once the noise is fed in
        if found != plain[name]:
            return None
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    return inputs[0], outputs[0]


def _reading(name: str, shaped_like: str, output: str) -> list[bytes]:
    """Nodes that give ``output`` the shape of ``shaped_like``, filled row by row from
    the one-dimensional input ``name``, read again from its start if it is short."""
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
        wire.node("Reshape", [at + "flat", at + "shape"], [output]),
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
            digest.update(key.encode() + np.ascontiguousarray(feed[key]).tobytes())
        seed = int.from_bytes(digest.digest(), "little")
        count = max(1, feed["input"].size) * PER_PHONEME
        noise = {}
        for index, (name, bank) in enumerate(zip(self.names, self.banks)):
            draw = np.random.default_rng([SEED, seed, index])
            if count > BANK:  # a very long sentence: its own noise, drawn now
                noise[name] = draw.standard_normal(count, np.float32)
            else:
                start = int(draw.integers(0, BANK - count + 1))
                noise[name] = bank[start:start + count]
        return self.session.run(outputs, {**feed, **noise})
