"""Tests of the Modality protocol as a room implements it, of default recipes, and of wavediff.errors.

The toy room (tests/_toy_rooms.py) is checked against its contract: ``from_tensor(*to_tensor(x)) == x``
bit for bit, inputs never modified, reproducible degradation, metrics with known values. Registration and
discovery are tested in test_registry.py, atomic_output in test_atomic_output.py.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from _toy_rooms import Toy, _room_source

import wavediff
from wavediff import errors
from wavediff.errors import ConfigError, InvalidInputError, UnsupportedFormatError, WavediffError
from wavediff.modality import Modality


# --------------------------------------------------------------------------- the toy room itself
def test_toy_round_trip_is_exact_and_scaled():
    room = Toy()
    rng = np.random.default_rng(1)
    for x in (
        rng.normal(0, 1e-3, 257),
        rng.normal(5, 300, 64).astype(np.float32),
        np.zeros(8),
        np.array([-7.5]),
    ):
        original = x.copy()
        tensor, context = room.to_tensor(x)
        assert tensor.dtype == torch.float64 and tensor.shape == (1, 1, x.size)
        assert float(tensor.abs().max()) <= 1.0  # about unit scale
        assert "scale" in context
        back = room.from_tensor(tensor, context)
        assert back.dtype == x.dtype
        assert np.array_equal(back, x)  # from_tensor(*to_tensor(x)) == x, bit for bit
        assert np.array_equal(x, original)  # inputs are never modified


def test_toy_io_degrade_and_metrics(tmp_path):
    room = Toy(sigma=0.5)
    clean = np.linspace(-2, 2, 4096)
    path = room.write(clean, tmp_path / "clean.npy")
    assert sorted(os.listdir(tmp_path)) == ["clean.npy"]
    assert np.array_equal(room.read(path), clean)

    a = room.degrade(clean, np.random.default_rng(3))
    b = room.degrade(clean, np.random.default_rng(3))
    assert np.array_equal(a, b)  # reproducible from the rng
    m = room.metrics(clean, a)
    assert set(m) == {"snr_db", "rmse"} and all(isinstance(v, float) for v in m.values())
    # unit-free truth: rmse of N(0, 0.5) noise over 4096 samples is 0.5 within a few percent
    assert m["rmse"] == pytest.approx(0.5, rel=0.05)
    assert m["snr_db"] == pytest.approx(10 * np.log10(np.mean(clean**2) / 0.25), abs=0.5)

    with pytest.raises(UnsupportedFormatError):
        room.read(tmp_path / "clean.txt")
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(OSError):  # CorruptFileError is an OSError
        room.read(tmp_path / "empty.npy")


def test_toy_demo_writes_a_file(tmp_path):
    result = Toy().demo(tmp_path, seed=0)
    assert result["figure"] == tmp_path / "toy_demo.npy"
    assert result["figure"].is_file()
    assert result["table"][0]["method"] == "noisy input"


# --------------------------------------------------------------------------- recipes
def _import_room_module(folder: Path, monkeypatch) -> type[Modality]:
    """Write an (unregistered) room module into ``folder`` and import it; return its class."""
    folder.mkdir(parents=True, exist_ok=True)
    module_name = f"recipe_room_{uuid.uuid4().hex[:12]}"
    path = folder / f"{module_name}.py"
    path.write_text(_room_source("RecipeRoom", "reciperoom"))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module_name, module)
    spec.loader.exec_module(module)
    return module.RecipeRoom


def test_recipe_path_is_beside_the_defining_module(tmp_path, monkeypatch):
    cls = _import_room_module(tmp_path / "room", monkeypatch)
    assert cls.recipe_path() == tmp_path / "room" / "recipe.toml"
    # a subclass defined elsewhere looks beside its own module
    assert Toy.recipe_path() == Path(__file__).with_name("recipe.toml")


def test_default_recipe_reads_toml(tmp_path, monkeypatch):
    cls = _import_room_module(tmp_path / "room", monkeypatch)
    cls.recipe_path().write_text(
        textwrap.dedent(
            """\
            # defaults of the test room
            [wavelet]
            name = "sym8"
            levels = 4

            [sampler]
            steps = 50
            eta = 0.0

            [train]
            budget_minutes = 1.5
            channels = [32, 64]
            """
        )
    )
    recipe = cls.default_recipe()
    assert recipe == {
        "wavelet": {"name": "sym8", "levels": 4},
        "sampler": {"steps": 50, "eta": 0.0},
        "train": {"budget_minutes": 1.5, "channels": [32, 64]},
    }
    recipe["wavelet"]["levels"] = 99  # a fresh dict every call
    assert cls.default_recipe()["wavelet"]["levels"] == 4


def test_default_recipe_invalid_toml(tmp_path, monkeypatch):
    cls = _import_room_module(tmp_path / "room", monkeypatch)
    cls.recipe_path().write_text("[wavelet]\nlevels = = 4\n")
    with pytest.raises(ConfigError) as info:
        cls.default_recipe()
    assert str(cls.recipe_path()) in str(info.value) and "not valid TOML" in str(info.value)
    assert info.value.__cause__ is not None
    assert isinstance(info.value, ValueError)


def test_default_recipe_not_utf8(tmp_path, monkeypatch):
    # TOML must be UTF-8; a recipe saved in Latin-1 is an invalid recipe and should be a ConfigError.
    # BUG: tomllib.load decodes before parsing, so a UnicodeDecodeError escapes default_recipe
    # (modality.py, Modality.default_recipe catches only tomllib.TOMLDecodeError).
    cls = _import_room_module(tmp_path / "room", monkeypatch)
    cls.recipe_path().write_bytes('[site]\nname = "Montréal"\n'.encode("latin-1"))
    with pytest.raises(ConfigError):
        cls.default_recipe()


def test_default_recipe_missing(tmp_path, monkeypatch):
    cls = _import_room_module(tmp_path / "room", monkeypatch)
    assert not cls.recipe_path().exists()
    with pytest.raises(ConfigError) as info:
        cls.default_recipe()
    message = str(info.value)
    assert "'reciperoom'" in message and str(cls.recipe_path()) in message and "recipe.toml" in message


def test_default_recipe_that_is_a_folder(tmp_path, monkeypatch):
    cls = _import_room_module(tmp_path / "room", monkeypatch)
    cls.recipe_path().mkdir()
    with pytest.raises(ConfigError, match="has no recipe"):
        cls.default_recipe()


# --------------------------------------------------------------------------- errors
def _exception_classes() -> list[type]:
    return [getattr(errors, name) for name in errors.__all__]


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_a_wavediff_error(name):
    cls = getattr(errors, name)
    assert inspect.isclass(cls) and issubclass(cls, Exception)
    if issubclass(cls, Warning):  # the one warning class: something to know, not a failure
        assert name == "DataWarning" and not issubclass(cls, WavediffError)
    else:
        assert issubclass(cls, WavediffError)
    assert cls.__doc__ and cls.__doc__.strip()  # every error explains itself


def test_all_lists_every_exception_class():
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    }
    assert defined == set(errors.__all__)
    assert wavediff.errors is errors


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("InvalidInputError", ValueError),
        ("ShapeError", ValueError),
        ("NonFiniteError", ValueError),
        ("UnknownWaveletError", ValueError),
        ("LevelTooDeepError", ValueError),
        ("SampleRateError", ValueError),
        ("UnsupportedFormatError", ValueError),
        ("CorruptFileError", OSError),
        ("UnknownModalityError", KeyError),
        ("ModalityError", TypeError),
        ("CheckpointError", OSError),
        ("ConfigError", ValueError),
        ("DeviceError", RuntimeError),
    ],
)
def test_documented_builtin_bases(name, base):
    cls = getattr(errors, name)
    assert issubclass(cls, base)
    with pytest.raises(base):
        raise cls("what was wrong; what to do")


@pytest.mark.parametrize(
    "name", ["ShapeError", "NonFiniteError", "UnknownWaveletError", "LevelTooDeepError", "SampleRateError"]
)
def test_input_errors_are_invalid_input_errors(name):
    assert issubclass(getattr(errors, name), InvalidInputError)


@pytest.mark.parametrize("cls", _exception_classes(), ids=lambda c: c.__name__)
def test_error_messages_print_plainly(cls):
    assert str(cls("file x.edf is truncated; re-download it")) == "file x.edf is truncated; re-download it"
