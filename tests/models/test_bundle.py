from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from models.bundle import (
    DATA_FILES,
    FORMAT_VERSION,
    ITEMS,
    MANIFEST,
    USER_FEATURES,
    BundleError,
    BundleKind,
    load_bundle,
    write_bundle,
)
from models.feature_batch import TensorTable
from models.feature_table import FeatureTable
from models.mirec import MIRec
from models.spec import TowerSpec, field_specs
from models.two_tower import TwoTower

SPEC = TowerSpec(dim=4, hidden=(8, 4), field_dim=3)
ITEM_IDS = ["0042", "b", "c", "dé", "e"]  # leading zeros and non-ASCII survive as strings
USER_IDS = ["u0", "u1", "u2", "u3"]


def _write(
    out: Path,
    model: torch.nn.Module,
    kind: BundleKind,
    users: FeatureTable,
    items: FeatureTable,
    lambda_p: float | None = None,
) -> Path:
    with torch.no_grad():
        batch = TensorTable.from_table(items).all_rows()
        emb = (
            model.item_index_vectors(batch) if isinstance(model, MIRec) else model.item_embed(batch)
        ).numpy()
    return write_bundle(
        out,
        kind=kind,
        model=model,
        spec=SPEC,
        user_table=users,
        item_table=items,
        item_ids=ITEM_IDS,
        user_ids=USER_IDS,
        item_embeddings=emb,
        train_counts=np.array([9, 4, 1, 0, 2], dtype=np.int64),
        is_tail=np.array([False, True, True, True, True]),
        lambda_p=lambda_p,
        manifest_extra={"dataset": "tiny", "metrics": {"HR@10": np.float64(0.25)}},
    )


@pytest.fixture
def tt_bundle(tmp_path: Path, user_table: FeatureTable, item_table: FeatureTable) -> Path:
    torch.manual_seed(0)
    model = TwoTower(field_specs(user_table), field_specs(item_table), SPEC)
    return _write(tmp_path / "runs" / "tt", model, "two_tower", user_table, item_table)


def _tables_equal(a: FeatureTable, b: FeatureTable) -> bool:
    return a.names == b.names and all(
        fa.vocab == fb.vocab
        and fa.multi == fb.multi
        and np.array_equal(fa.values, fb.values)
        and np.array_equal(fa.offsets, fb.offsets)
        for fa, fb in zip(a.fields, b.fields, strict=True)
    )


def test_two_tower_round_trip(
    tt_bundle: Path, user_table: FeatureTable, item_table: FeatureTable
) -> None:
    b = load_bundle(tt_bundle)
    assert b.kind == "two_tower" and b.lambda_p is None and b.index_dim == 4
    assert b.item_ids == tuple(ITEM_IDS) and b.user_ids == tuple(USER_IDS)
    assert b.train_counts.tolist() == [9, 4, 1, 0, 2] and b.is_tail.sum() == 4
    assert _tables_equal(b.user_table, user_table) and _tables_equal(b.item_table, item_table)
    assert b.manifest["format_version"] == FORMAT_VERSION and b.manifest["dataset"] == "tiny"
    assert b.manifest["metrics"] == {"HR@10": 0.25}
    assert b.manifest["created_at"].endswith("Z")
    assert b.model_version == "two_tower-" + b.manifest["files"]["weights.safetensors"][:12]
    with np.load(tt_bundle / ITEMS, allow_pickle=False) as z:
        assert z["item_ids"].dtype.kind == "U"  # fixed-width unicode, not object
    model = b.build_model()
    assert isinstance(model, TwoTower) and not model.training
    with torch.no_grad():
        items = model.item_embed(TensorTable.from_table(item_table).all_rows()).numpy()
        users = model.user_embed(TensorTable.from_table(user_table).all_rows()).numpy()
    np.testing.assert_array_equal(items, b.embeddings)  # same weights -> identical floats
    enc = b.query_encoder()
    # the same rows in another batch: equal up to float summation order
    np.testing.assert_allclose(enc.encode_known(np.array([2, 0])), users[[2, 0]], rtol=1e-5)
    np.testing.assert_array_equal(enc.encode_known(np.arange(4)), users)
    assert enc.user_index("u3") == 3 and enc.user_index("nobody") is None
    known = enc.encode_features({"user_id": "u1", "gender": "M", "age": "25"})
    assert known.dtype == np.float32 and known.shape == (1, 4)
    np.testing.assert_allclose(known[0], users[1], rtol=1e-6)
    cold = enc.encode_features({"user_id": "new-user", "gender": "F"})  # age missing -> unknown
    with torch.no_grad():
        fi = model.query_tower.input
        x = torch.cat([fi.default[0], fi.bags["gender"].weight[1], fi.default[2]])
        np.testing.assert_allclose(cold[0], model.query_tower.mlp(x).numpy(), rtol=1e-5)
    with pytest.raises(KeyError, match="zip"):
        enc.encode_features({"zip": "123"})


def test_mirec_round_trip(
    tmp_path: Path, user_table: FeatureTable, item_table: FeatureTable
) -> None:
    torch.manual_seed(0)
    model = MIRec(field_specs(user_table), field_specs(item_table), SPEC, meta_hidden=6)
    for p in model.f_user.parameters():
        torch.nn.init.normal_(p)
    path = _write(tmp_path / "mirec", model, "mirec", user_table, item_table, lambda_p=0.3)
    b = load_bundle(path)
    assert b.kind == "mirec" and b.lambda_p == 0.3 and b.index_dim == 8
    assert b.manifest["meta_kind"] == "residual" and b.manifest["meta_hidden"] == 6
    rebuilt = b.build_model()
    assert isinstance(rebuilt, MIRec)
    users = TensorTable.from_table(user_table).all_rows()
    enc = b.query_encoder()
    with torch.no_grad():
        for lam in (None, 0.0, 0.8):
            want = model.query_vectors(users, 0.3 if lam is None else lam).numpy()
            np.testing.assert_array_equal(enc.encode_known(np.arange(4), lam), want)
    with pytest.raises(ValueError, match="lambda_p"):
        enc.encode_known(np.arange(2), 1.5)


def test_rewrite_replaces_and_is_reproducible(
    tt_bundle: Path, user_table: FeatureTable, item_table: FeatureTable
) -> None:
    first = load_bundle(tt_bundle).manifest["files"]
    torch.manual_seed(0)
    model = TwoTower(field_specs(user_table), field_specs(item_table), SPEC)
    _write(tt_bundle, model, "two_tower", user_table, item_table)
    assert load_bundle(tt_bundle).manifest["files"] == first  # byte-identical files
    assert sorted(p.name for p in tt_bundle.parent.iterdir()) == ["tt"]  # no temp dirs left
    other = tt_bundle.parent / "not_a_bundle"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing"):
        _write(other, model, "two_tower", user_table, item_table)
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("name", DATA_FILES)
def test_flipped_byte_names_the_file(tt_bundle: Path, name: str) -> None:
    path = tt_bundle / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=rf"bundle .*tt: {name}: sha256 mismatch"):
        load_bundle(tt_bundle)


@pytest.mark.parametrize("name", (*DATA_FILES, MANIFEST))
def test_missing_file_names_the_file(tt_bundle: Path, name: str) -> None:
    (tt_bundle / name).unlink()
    with pytest.raises(BundleError, match=rf"{name}: missing"):
        load_bundle(tt_bundle)


def _edit_manifest(bundle: Path, **changes: object) -> None:
    m = json.loads((bundle / MANIFEST).read_text())
    m.update(changes)
    (bundle / MANIFEST).write_text(json.dumps(m))


def test_wrong_format_version(tt_bundle: Path) -> None:
    _edit_manifest(tt_bundle, format_version=FORMAT_VERSION + 1)
    with pytest.raises(BundleError, match=r"manifest.json: format_version 2"):
        load_bundle(tt_bundle)


def _replace_npz(bundle: Path, name: str, **arrays: np.ndarray) -> None:
    """Rewrite one npz with changed arrays and a matching sha256, so only the shape check fires."""
    with np.load(bundle / name, allow_pickle=False) as z:
        content = {k: z[k] for k in z.files}
    content.update(arrays)
    np.savez(bundle / name, **content)  # type: ignore[arg-type]
    import hashlib

    m = json.loads((bundle / MANIFEST).read_text())
    m["files"][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    (bundle / MANIFEST).write_text(json.dumps(m))


def test_shape_mismatches(tt_bundle: Path, tmp_path: Path) -> None:
    cases = {
        "embeddings": (
            ITEMS,
            {"embeddings": np.zeros((5, 3), np.float32)},
            r"embeddings must be float32 \[5, 4\]",
        ),
        "train_counts": (ITEMS, {"train_counts": np.zeros(4, np.int64)}, "train_counts"),
        "is_tail": (ITEMS, {"is_tail": np.zeros(5, np.int8)}, "is_tail must be bool"),
        "user_ids": (USER_FEATURES, {"user_ids": np.array(["u0", "u1"])}, "2 user_ids for 4"),
        "offsets": (USER_FEATURES, {"offsets_1": np.arange(4, dtype=np.int64)}, "'gender'"),
    }
    for what, (name, arrays, message) in cases.items():
        copy = tmp_path / f"copy_{what}"
        shutil.copytree(tt_bundle, copy)
        _replace_npz(copy, name, **arrays)
        with pytest.raises(BundleError, match=rf"copy_{what}: {name}: .*{message}"):
            load_bundle(copy)


def test_object_arrays_are_never_unpickled(tt_bundle: Path) -> None:
    _replace_npz(tt_bundle, ITEMS, item_ids=np.array(ITEM_IDS, dtype=object))
    with pytest.raises(BundleError, match=r"items.npz: cannot read .*allow_pickle"):
        load_bundle(tt_bundle)


def test_write_validation(
    tmp_path: Path, user_table: FeatureTable, item_table: FeatureTable
) -> None:
    model = TwoTower(field_specs(user_table), field_specs(item_table), SPEC)
    mirec = MIRec(field_specs(user_table), field_specs(item_table), SPEC)
    with pytest.raises(ValueError, match="needs lambda_p"):
        _write(tmp_path / "m", mirec, "mirec", user_table, item_table)
    with pytest.raises(ValueError, match="only for mirec"):
        _write(tmp_path / "t", model, "two_tower", user_table, item_table, lambda_p=0.5)
    with pytest.raises(TypeError, match="MIRec"):
        _write(tmp_path / "t", model, "mirec", user_table, item_table, lambda_p=0.5)
    with pytest.raises(ValueError, match="item_embeddings"):
        write_bundle(
            tmp_path / "t",
            kind="two_tower",
            model=model,
            spec=SPEC,
            user_table=user_table,
            item_table=item_table,
            item_ids=ITEM_IDS,
            user_ids=USER_IDS,
            item_embeddings=np.zeros((5, 8), np.float32),
            train_counts=np.zeros(5, np.int64),
            is_tail=np.zeros(5, bool),
            manifest_extra={},
        )
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_bundles_written_before_the_kind_registry_still_load(tt_bundle: Path) -> None:
    # Until the kind registry, every two-tower manifest carried MIRec's keys as nulls.
    _edit_manifest(tt_bundle, meta_kind=None, meta_hidden=None)
    b = load_bundle(tt_bundle)
    assert b.kind == "two_tower" and b.manifest["meta_kind"] is None


def test_unsupported_bundles_are_refused_with_a_rebuild_hint(tt_bundle: Path) -> None:
    _edit_manifest(tt_bundle, format_version=0)
    with pytest.raises(BundleError, match=r"manifest.json: format_version 0 .*rebuild it .*"
                       r"python -m training train"):
        load_bundle(tt_bundle)


def test_manifest_round_trip_keeps_extra_keys(tt_bundle: Path) -> None:
    from models.bundle import Manifest

    raw = json.loads((tt_bundle / MANIFEST).read_text())
    raw["trainer_note"] = {"any": ["json", 1]}
    m = Manifest.from_json(raw)
    assert m.extra["trainer_note"] == {"any": ["json", 1]} and m.index_dim == 4
    assert m.to_json() == raw
    with pytest.raises(ValueError, match="index_dim 8 disagree"):
        Manifest.from_json({**raw, "index_dim": 8})
    mirec = {**raw, "kind": "mirec", "index_dim": 8, "lambda_p": 0.5, "meta_kind": "nope"}
    with pytest.raises(ValueError, match="bad meta options meta_kind='nope'"):
        Manifest.from_json(mirec)
    with pytest.raises(ValueError, match=r"needs lambda_p in \[0, 1\], got 1.5"):
        Manifest.from_json({**mirec, "meta_kind": "residual", "lambda_p": 1.5})
