"""The Piper engine with the bundled voice: rate, trimming, headroom, voice discovery."""

from __future__ import annotations

import numpy as np
import pytest

from tre_audio.errors import InvalidOption
from tre_audio.options.settings import SAMPLE_RATE, VOICE_WPM
from tre_audio.speech import onnx_wire, piper, seeded
from tre_audio.sound.loudness import true_peak_per_sample
from tre_audio.sound.clip import PEAK_OVER_RMS_DB, SPEECH_RMS_DB, TRIM_DB, prepare

SENTENCES = [
    "Let your weight settle evenly through both feet.",
    "Roll slowly onto the outer edge of your left foot, and the inner edge of your right.",
    "When you are ready, come back to the middle and rest.",
]


@pytest.fixture(scope="module")
def clips():
    engine = piper.open_engine(piper.DEFAULT_VOICE, VOICE_WPM)
    try:
        assert engine.sample_rate == SAMPLE_RATE
        return [prepare(engine.synthesize(s), engine.sample_rate, SAMPLE_RATE) for s in SENTENCES]
    finally:
        engine.close()


def test_the_voice_speaks_at_about_the_chosen_rate(clips):
    words = sum(len(s.split()) for s in SENTENCES)
    seconds = sum(len(c) for c in clips) / SAMPLE_RATE
    assert VOICE_WPM * 0.8 < words * 60 / seconds < VOICE_WPM * 1.2


def test_clips_are_trimmed_levelled_and_their_peaks_limited(clips):
    threshold = 10 ** (TRIM_DB / 20)
    for clip in clips:
        loud = np.flatnonzero(np.abs(clip) > threshold)
        assert loud[0] / SAMPLE_RATE < 0.03  # speech starts within 30 ms
        assert (len(clip) - loud[-1]) / SAMPLE_RATE < 0.08
        rms_db = 10 * np.log10(np.mean(np.square(clip, dtype=np.float64)))
        assert abs(rms_db - SPEECH_RMS_DB) < 0.01
        peak_db = 20 * np.log10(true_peak_per_sample(clip).max())
        # Piper's sentences peak 17-21 dB over their RMS; the limiter leaves at most
        # PEAK_OVER_RMS_DB, lifted by the small RMS correction after it.
        assert SPEECH_RMS_DB + PEAK_OVER_RMS_DB - 1.5 < peak_db < SPEECH_RMS_DB + PEAK_OVER_RMS_DB + 0.5


def test_voices_in_the_voices_folder_are_listed_and_unknown_ones_refused(private_folders):
    (private_folders / "voices").mkdir()
    (private_folders / "voices" / "en_GB-test-low.onnx").write_bytes(b"x")
    voices = piper.voices()
    names = [v.name for v in voices]
    assert names[0] == piper.DEFAULT_VOICE and voices[0].aliases == (piper.BUNDLED,)
    assert "en_GB-test-low" in names
    with pytest.raises(InvalidOption, match="unknown piper voice 'nobody'"):
        piper.model_path("nobody")


def test_the_bundled_voice_opens_without_calibrating(monkeypatch):
    def no_calibration(engine, length_scale):
        raise AssertionError("the bundled voice was calibrated")

    monkeypatch.setattr(piper, "_measured_wpm", no_calibration)
    engine = piper.open_engine(piper.DEFAULT_VOICE, VOICE_WPM)
    try:
        assert 1.55 < engine.length_scale < 1.65  # measured: 171.4 wpm at 1.55, 165.2 at 1.65
    finally:
        engine.close()


def test_other_voices_are_calibrated_once_and_the_scale_kept(private_folders, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(tmp_path / "cache"))
    voices = private_folders / "voices"
    voices.mkdir()
    bundled = piper.model_path(piper.DEFAULT_VOICE)
    for suffix in (".onnx", ".onnx.json"):  # the same model under a name not measured
        (voices / f"en_US-copy-medium{suffix}").symlink_to(f"{bundled}{suffix[5:]}")
    asked: list[float] = []

    def measured(engine, length_scale):
        asked.append(length_scale)
        return 240.0 / length_scale**0.75

    def opened() -> float:
        engine = piper.open_engine("en_US-copy-medium", VOICE_WPM)
        engine.close()
        return engine.length_scale

    monkeypatch.setattr(piper, "_measured_wpm", measured)
    scale = opened()
    assert asked[0] == 1.0 and len(asked) == 2
    assert scale == pytest.approx((240.0 / VOICE_WPM) ** (1 / 0.75), rel=1e-3)
    assert opened() == scale and len(asked) == 2  # kept: not calibrated again
    (kept,) = (tmp_path / "cache" / "voice-rates").iterdir()
    for damaged in ("", "fast", "nan", "9.0", "1.5e"):  # unreadable or out of range
        kept.write_text(damaged)
        asked.clear()
        assert opened() == scale and len(asked) == 2
        assert float(kept.read_text()) == scale  # and mended
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("TRE_AUDIO_CACHE", str(blocked / "cache"))  # cannot be made
    asked.clear()
    assert opened() == scale and len(asked) == 2  # calibrated, used, not kept
    assert opened() == scale and len(asked) == 4


def test_the_same_sentence_is_the_same_audio_whatever_was_spoken_before(monkeypatch):
    """Piper samples its noise; seeded, a sentence's audio is its own, on any thread."""
    from concurrent.futures import ThreadPoolExecutor

    first = piper.open_engine(piper.DEFAULT_VOICE, VOICE_WPM)
    second = piper.open_engine(piper.DEFAULT_VOICE, VOICE_WPM)
    try:
        alone = [first.synthesize(s) for s in SENTENCES]
        with ThreadPoolExecutor(2) as pool:  # the other order, two at a time
            together = list(pool.map(second.synthesize, SENTENCES[::-1]))[::-1]
        for a, b in zip(alone, together, strict=True):
            assert np.array_equal(a, b)
        monkeypatch.setattr(seeded, "SEED", 1)  # another take: the noise is used
        other = first.synthesize(SENTENCES[0])
        assert len(other) != len(alone[0]) or not np.allclose(other, alone[0], atol=1e-3)
    finally:
        first.close()
        second.close()


def test_the_rewritten_model_differs_only_in_where_its_noise_comes_from():
    """With no noise asked for (scales 0), the rewritten model is the model, sample for
    sample; the rewrite adds one input of noise for each random node, nothing else."""
    import onnxruntime

    model = piper.model_path(piper.DEFAULT_VOICE).read_bytes()
    rewritten, names = seeded.rewritten(model)
    assert names == ("tre_audio_noise_0", "tre_audio_noise_1")
    assert seeded.rewritten(rewritten) == (rewritten, ())  # nothing random is left
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [onnxruntime.InferenceSession(m, options, providers=["CPUExecutionProvider"])
                for m in (model, rewritten)]
    ids = np.array([[1, 20, 0, 35, 0, 40, 0, 50, 0, 2]], dtype=np.int64)
    feed = {"input": ids, "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
            "scales": np.array([0.0, 1.3, 0.0], dtype=np.float32)}
    plain = sessions[0].run(None, feed)[0]
    fed = seeded.SeededSession(sessions[1], names).run(None, feed)[0]
    assert plain.size > 4000 and np.array_equal(plain, fed)
    assert ([i.name for i in sessions[1].get_inputs()]
            == [i.name for i in sessions[0].get_inputs()] + list(names))


@pytest.mark.parametrize("damage", [b"", b"\x0f", b"\x3a\xff\xff\xff\xff\x0f", b"\x08\x80"])
def test_a_model_that_is_not_protobuf_is_refused_by_the_rewrite(damage):
    model = piper.model_path(piper.DEFAULT_VOICE).read_bytes()
    with pytest.raises(onnx_wire.Malformed):
        seeded.rewritten(damage or model[:len(model) // 2])


def test_a_model_of_countless_tiny_fields_is_refused_before_it_costs_memory():
    tiny = onnx_wire.integer(1, 1) * (onnx_wire.MOST_FIELDS + 1)  # ir_version, again and again
    with pytest.raises(onnx_wire.Malformed, match="more than 200,000 fields"):
        seeded.rewritten(tiny)
    graph = onnx_wire.message(onnx_wire.MODEL_GRAPH, onnx_wire.integer(2, 0) * 300_000)
    with pytest.raises(onnx_wire.Malformed, match="more than 200,000 fields"):
        seeded.rewritten(graph)


def _model(*nodes: bytes, outputs: tuple[str, ...] = ("y",)) -> bytes:
    """A minimal ONNX model: a float vector ``input``, the ``nodes``, float ``outputs``."""
    w = onnx_wire
    graph = b"".join(w.message(w.GRAPH_NODE, node) for node in nodes)
    graph += w.message(w.GRAPH_INPUT, w.float_vector_input("input"))
    graph += b"".join(w.message(12, w.float_vector_input(name)) for name in outputs)
    opset = w.message(1, b"") + w.integer(2, 15)  # OperatorSetIdProto: domain, version
    return w.integer(1, 8) + w.message(8, opset) + w.message(w.MODEL_GRAPH, graph)


def _random(output: str, dtype: int | None = 1, mean: float = 0.0, scale: float = 1.0) -> bytes:
    import struct

    w = onnx_wire
    node = w.node("RandomNormalLike", ["input"], [output], {} if dtype is None else {"dtype": dtype})
    for name, value in (("mean", mean), ("scale", scale)):
        node += w.message(w.NODE_ATTRIBUTE, w.message(w.ATTRIBUTE_NAME, name.encode())
                          + w.key(w.ATTRIBUTE_FLOAT, w.FIXED32) + struct.pack("<f", value)
                          + w.integer(w.ATTRIBUTE_TYPE, 1))
    return node


def test_a_random_node_s_mean_and_scale_are_kept_and_an_untyped_one_left_alone():
    import onnxruntime

    model, names = seeded.rewritten(_model(_random("y", mean=5.0, scale=2.0)))
    assert names == ("tre_audio_noise_0",)
    session = seeded.SeededSession(
        onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"]), names)
    feed = {"input": np.zeros(4_000, dtype=np.float32)}
    drawn = session.run(None, feed)[0]  # seeded: the same values on every run
    assert drawn.shape == (4_000,) and np.array_equal(drawn, session.run(None, feed)[0])
    assert abs(drawn.mean() - 5.0) < 0.1 and abs(drawn.std() - 2.0) < 0.1
    untyped = _model(_random("y", dtype=None))  # takes its input's type, maybe not float
    assert seeded.rewritten(untyped) == (untyped, ())


def test_a_model_of_many_random_nodes_is_refused_before_each_costs_a_bank():
    outputs = tuple(f"y{i}" for i in range(seeded.MOST_NODES + 1))
    crowded = _model(*(_random(name) for name in outputs), outputs=outputs)
    with pytest.raises(onnx_wire.Malformed, match="more than 4 random nodes"):
        seeded.rewritten(crowded)
    fewer = _model(*(_random(name) for name in outputs[:-1]), outputs=outputs[:-1])
    assert len(seeded.rewritten(fewer)[1]) == seeded.MOST_NODES
