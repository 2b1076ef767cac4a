"""TensorRT engine cache: key, hit/miss, corrupt and truncated files, rebuild policy (no TensorRT needed)."""
from __future__ import annotations

import logging

import onnx
import pytest
from onnx import TensorProto, helper

from poselifter_core.runtime import BackendError
from poselifter_core.runtime.engine_cache import EngineCache, batch_profile, engine_key


def write_onnx(path, second_dim=17, bias=0.0):
    """A one-node model x (N, second_dim, 2) -> y = x + bias."""
    const = helper.make_tensor("b", TensorProto.FLOAT, [], [bias])
    graph = helper.make_graph([helper.make_node("Add", ["x", "b"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", second_dim, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", second_dim, 2])], [const])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.fixture
def model(tmp_path):
    return write_onnx(tmp_path / "m.onnx")


def key_for(path, **changes):
    args = dict(precision="fp16", max_batch=64, opt_batch=None, tensorrt_version="10.3.0",
                gpu_name="NVIDIA GeForce RTX 4090", compute_capability=(8, 9))
    args.update(changes)
    return engine_key(path, **args)


def test_key_is_stable_and_covers_every_component(tmp_path, model):
    key = key_for(model)
    assert key == key_for(model) and key.digest == key_for(model).digest
    assert key.profile == (("x", (1, 17, 2), (64, 17, 2), (64, 17, 2)),)
    assert key.filename.startswith("trt10.3.0-nvidia-geforce-rtx-4090-sm89-fp16-b64-")
    variants = [key_for(model, precision="fp32"), key_for(model, max_batch=32), key_for(model, opt_batch=8),
                key_for(model, tensorrt_version="10.4.0"), key_for(model, gpu_name="NVIDIA A100"),
                key_for(model, compute_capability=(8, 6)), key_for(write_onnx(tmp_path / "other.onnx", bias=1.0))]
    digests = {key.digest} | {v.digest for v in variants}
    assert len(digests) == len(variants) + 1


def test_key_rejects_bad_settings(tmp_path, model):
    with pytest.raises(ValueError, match="precision"):
        key_for(model, precision="int4")
    with pytest.raises(ValueError, match="opt_batch"):
        key_for(model, opt_batch=65)
    with pytest.raises(BackendError, match="only the batch axis"):
        key_for(write_onnx(tmp_path / "dyn.onnx", second_dim="J"))
    with pytest.raises(ValueError, match="max_batch"):
        batch_profile({"x": (3,)}, 0)


def test_store_then_load_and_miss(tmp_path, model):
    cache = EngineCache(tmp_path / "cache")
    key = key_for(model)
    assert cache.load(key) is None
    path = cache.store(key, b"engine-bytes")
    assert path == cache.path(key) and cache.load(key) == b"engine-bytes"
    assert EngineCache(tmp_path / "cache").load(key_for(model, precision="fp32")) is None
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [key.filename]  # no temporary files left


@pytest.mark.parametrize("damage", ["truncate_payload", "truncate_header", "flip_byte", "garbage", "empty"])
def test_corrupt_cache_file_is_deleted_not_used(tmp_path, model, damage, caplog):
    cache = EngineCache(tmp_path)
    key = key_for(model)
    data = cache.store(key, bytes(range(256)) * 10).read_bytes()
    damaged = {"truncate_payload": data[:-100], "truncate_header": data[:30], "garbage": b"junk" * 10, "empty": b"",
               "flip_byte": data[:-1] + bytes([data[-1] ^ 1])}[damage]
    cache.path(key).write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        assert cache.load(key) is None
    assert "unusable" in caplog.text and not cache.path(key).exists()


def test_file_for_another_key_is_rejected(tmp_path, model):
    cache = EngineCache(tmp_path)
    other = key_for(model, gpu_name="NVIDIA A100")
    cache.store(other, b"a100 engine")
    cache.path(other).rename(cache.path(key_for(model)))  # copied under the wrong name
    assert cache.load(key_for(model)) is None


class Counter:
    """A stand-in builder: TensorRT cannot run here, the cache policy can."""

    def __init__(self, payload=b"built-engine"):
        self.calls = 0
        self.payload = payload

    def __call__(self) -> bytes:
        self.calls += 1
        return self.payload


def test_get_or_build_builds_once_across_starts(tmp_path, model):
    build = Counter()
    key = key_for(model)
    for start in range(3):  # three process starts, each with a fresh cache object
        engine, built = EngineCache(tmp_path).get_or_build(key, build, lambda data: ("engine", data))
        assert engine == ("engine", b"built-engine") and built == (start == 0)
    assert build.calls == 1


def test_undeserialisable_cached_engine_is_rebuilt(tmp_path, model, caplog):
    cache, key, build = EngineCache(tmp_path), key_for(model), Counter(b"good")
    cache.store(key, b"from-an-incompatible-tensorrt")

    def deserialize(data):
        if data != b"good":
            raise RuntimeError("engine plan version mismatch")
        return data

    with caplog.at_level(logging.WARNING):
        assert cache.get_or_build(key, build, deserialize) == (b"good", True)
    assert build.calls == 1 and "rebuilding" in caplog.text and cache.load(key) == b"good"


def test_build_that_cannot_be_loaded_is_an_error(tmp_path, model):
    with pytest.raises(BackendError, match="could not be deserialised"):
        EngineCache(tmp_path).get_or_build(key_for(model), Counter(), lambda data: None)


def test_unwritable_cache_still_returns_the_engine(tmp_path, model, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        engine, built = EngineCache(blocker / "cache").get_or_build(key_for(model), Counter(), bytes.upper)
    assert built and engine == b"BUILT-ENGINE" and "cannot write engine cache" in caplog.text


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    from poselifter_core.runtime.engine_cache import CACHE_ENV, default_cache_dir

    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "poselifter" / "engines"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "engines"))
    assert default_cache_dir() == tmp_path / "engines"
