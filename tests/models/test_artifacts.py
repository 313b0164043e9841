"""Artifacts: signed container, atomic write, safe loading, and refusal of pickles."""

from __future__ import annotations

import io
import json
import pickle

import joblib
import lightgbm as lgb
import numpy as np
import pytest
import skops.io as sio

from apps.models import artifacts as A

KEY = b"test-signing-key"


@pytest.fixture(scope="module")
def lgb_text() -> bytes:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "num_threads": 1}, lgb.Dataset(X, y), num_boost_round=3
    )
    return booster.model_to_string().encode()


def _loaded_nothing(monkeypatch):
    """Make any model parse fail the test: proves verification happens first."""

    def boom(*args, **kwargs):
        raise AssertionError("a model was parsed before verification")

    monkeypatch.setattr(lgb, "Booster", boom)
    monkeypatch.setattr(sio, "loads", boom)


def test_round_trip_returns_payload_meta_and_loadable_booster(lgb_text):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={"features": ["a", "b", "c"]})
    art = A.unpack(blob, key=KEY)
    assert art.format == "lightgbm-text"
    assert art.payload == lgb_text
    assert art.checksum == A.sha256(lgb_text)
    assert art.meta == {"features": ["a", "b", "c"]}
    booster = A.load_model(art)
    assert booster.num_trees() == 3


def test_sign_and_sha256_are_hex_digests():
    assert len(A.sha256(b"x")) == 64
    assert A.sign(b"x", KEY) != A.sign(b"x", b"other")
    with pytest.raises(A.ArtifactError):
        A.sign(b"x", b"")


def test_tampered_payload_is_refused_before_loading(lgb_text, monkeypatch):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={})
    tampered = blob[:-10] + b"X" + blob[-9:]
    _loaded_nothing(monkeypatch)
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(tampered, key=KEY)
    assert err.value.code == "checksum_mismatch"


def _rewrite_header(blob: bytes, change) -> bytes:
    body = blob[len(A.MAGIC) :]
    line, payload = body.split(b"\n", 1)
    header = json.loads(line)
    change(header)
    return A.MAGIC + json.dumps(header).encode() + b"\n" + payload


def test_tampered_header_meta_is_refused(lgb_text, monkeypatch):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={"threshold": 0.5})
    tampered = _rewrite_header(blob, lambda h: h["meta"].update(threshold=0.1))
    _loaded_nothing(monkeypatch)
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(tampered, key=KEY)
    assert err.value.code == "bad_signature"


def test_payload_and_checksum_swapped_together_fail_the_signature(lgb_text, monkeypatch):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={})
    other = b"tree\nversion=v4\nevil"
    body = blob[len(A.MAGIC) :]
    line, _ = body.split(b"\n", 1)
    header = json.loads(line)
    header["checksum"] = A.sha256(other)
    forged = A.MAGIC + json.dumps(header).encode() + b"\n" + other
    _loaded_nothing(monkeypatch)
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(forged, key=KEY)
    assert err.value.code == "bad_signature"


def test_tampered_signature_is_refused(lgb_text):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={})
    tampered = _rewrite_header(blob, lambda h: h.update(signature="0" * 64))
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(tampered, key=KEY)
    assert err.value.code == "bad_signature"


def test_wrong_key_is_refused(lgb_text):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={})
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(blob, key=b"another-key")
    assert err.value.code == "bad_signature"


def test_unknown_format_version_and_garbage_are_refused(lgb_text):
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={})
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(_rewrite_header(blob, lambda h: h.update(formatVersion=99)), key=KEY)
    assert err.value.code == "unknown_format"
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(b"not an artifact", key=KEY)
    assert err.value.code == "unknown_format"
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(A.MAGIC + b"{broken\n" + lgb_text, key=KEY)
    assert err.value.code == "unreadable"


def test_pack_refuses_unknown_format():
    with pytest.raises(A.ArtifactError) as err:
        A.pack(b"x", "pickle", key=KEY, meta={})
    assert err.value.code == "unknown_format"


def test_load_model_refuses_formats_other_than_lightgbm_and_skops():
    art = A.Artifact(format="pickle", payload=pickle.dumps(1), checksum="", signature="", meta={})
    with pytest.raises(A.ArtifactError) as err:
        A.load_model(art)
    assert err.value.code == "unsafe_format"


def test_write_goes_through_part_file_then_rename(tmp_path, monkeypatch, lgb_text):
    target = tmp_path / "model.omm"
    blob = A.pack(lgb_text, "lightgbm-text", key=KEY, meta={})
    seen = {}
    real_replace = A.os.replace

    def spy(src, dst):
        seen["src"], seen["dst"] = src, dst
        assert (tmp_path / "model.omm.part").read_bytes() == blob
        assert not target.exists()
        real_replace(src, dst)

    monkeypatch.setattr(A.os, "replace", spy)
    A.write(target, blob)
    assert seen == {"src": str(target) + ".part", "dst": str(target)}
    assert A.read(target, key=KEY).payload == lgb_text
    assert not (tmp_path / "model.omm.part").exists()


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "model.omm"
    target.write_bytes(b"old")

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(A.os, "fsync", fail)
    with pytest.raises(OSError):
        A.write(target, b"new contents")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.omm"]


class Harmless:
    """A harmless object to pickle; the tests prove it is never unpickled."""

    def __reduce__(self):
        return (_must_not_run, ())


def _must_not_run():
    raise AssertionError("an uploaded pickle was unpickled")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_upload_is_refused_without_loading(protocol, monkeypatch):
    data = pickle.dumps(Harmless(), protocol=protocol)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: _must_not_run())
    with pytest.raises(A.ArtifactError) as err:
        A.detect_upload_format(data, "model.bin")
    assert err.value.code == "unsafe_format"
    assert "pickle" in err.value.message


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3)])
def test_joblib_upload_is_refused_without_loading(compress, tmp_path):
    path = tmp_path / "model.out"
    joblib.dump(Harmless(), path, compress=compress)
    with pytest.raises(A.ArtifactError) as err:
        A.detect_upload_format(path.read_bytes(), "model.out")
    assert err.value.code == "unsafe_format"


def test_pickle_extension_is_refused_whatever_the_content(lgb_text):
    with pytest.raises(A.ArtifactError) as err:
        A.detect_upload_format(lgb_text, "../../model.joblib")
    assert err.value.code == "unsafe_format"


def test_detects_lightgbm_text_and_skops(lgb_text):
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    assert A.detect_upload_format(lgb_text, "model.txt") == "lightgbm-text"
    assert A.detect_upload_format(sio.dumps(lr), "model.skops") == "skops"
    fmt, model = A.load_upload(sio.dumps(lr), "model.skops")
    assert fmt == "skops" and model.predict([[3.0]])[0] == 1


def test_unrecognised_upload_is_unknown_format():
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    for data in (b"hello world", buf.getvalue(), b""):
        with pytest.raises(A.ArtifactError) as err:
            A.detect_upload_format(data, "x.bin")
        assert err.value.code == "unknown_format"


def test_skops_with_an_untrusted_type_is_refused():
    from sklearn.preprocessing import FunctionTransformer

    # FunctionTransformer wrapping an arbitrary function is exactly what must not load.
    obj = FunctionTransformer(func=_must_not_run)
    data = sio.dumps(obj)
    art = A.Artifact(format="skops", payload=data, checksum=A.sha256(data), signature="", meta={})
    with pytest.raises(A.ArtifactError) as err:
        A.load_model(art)
    assert err.value.code == "unsafe_format"
    with pytest.raises(A.ArtifactError):
        A.load_upload(data, "model.skops")


def test_default_trusted_types_cover_only_our_estimators():
    trusted = A.default_trusted_types()
    assert "sklearn.tree._tree.Tree" in trusted
    assert not any("FunctionTransformer" in t or "builtins" in t for t in trusted)


# --------------------------------------------------------------------------- formats other apps own


@pytest.fixture
def own_loaders(monkeypatch):
    """Formats registered by a test are forgotten after it."""
    monkeypatch.setattr(A, "_LOADERS", dict(A._LOADERS))


def test_a_registered_format_is_loaded_by_its_loader_only_once_verified(own_loaders):
    seen = []
    A.register_format("test-index", lambda payload: seen.append(payload) or "an index", name="test index")
    blob = A.pack(b"payload", "test-index", key=KEY, meta={})
    assert A.load_model(A.unpack(blob, key=KEY)) == "an index" and seen == [b"payload"]
    tampered = blob[:-1] + b"X"
    with pytest.raises(A.ArtifactError) as err:
        A.unpack(tampered, key=KEY)
    assert err.value.code == "checksum_mismatch" and seen == [b"payload"]  # never reached the loader


def test_a_loader_refusing_the_bytes_is_an_unreadable_artifact(own_loaders):
    def refuse(payload):
        raise ValueError("bad arrays")

    A.register_format("test-index", refuse, name="test index")
    art = A.unpack(A.pack(b"x", "test-index", key=KEY, meta={}), key=KEY)
    with pytest.raises(A.ArtifactError) as err:
        A.load_model(art)
    assert err.value.code == "unreadable" and str(err.value) == "test index could not be read: bad arrays"


def test_unregistered_formats_are_refused_and_built_in_ones_cannot_be_replaced(own_loaders):
    with pytest.raises(A.ArtifactError) as err:
        A.pack(b"x", "test-index", key=KEY, meta={})
    assert err.value.code == "unknown_format"
    with pytest.raises(ValueError):
        A.register_format("skops", lambda payload: None)


def test_the_qa_app_registers_its_retrieval_index():
    # QaConfig.ready() fills the registry: the models app never imports the QA app.
    assert "omm-retrieval" in A.formats()
    assert "omm-retrieval" not in A.BUILTIN_FORMATS
    with pytest.raises(A.ArtifactError) as err:  # written by the platform, never uploaded
        A.detect_upload_format(b"OMM-ARTIFACT\n{}", "index.omm")
    assert err.value.code == "unknown_format"
