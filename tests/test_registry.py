"""Tests of the modality registry: registration, unknown names, and plugin and built-in discovery.

Every test that touches the registry goes through the ``registry`` fixture, which snapshots and
restores ``wavediff.modality._REGISTRY``, ``_FAILED`` and ``_DISCOVERED``. Discovery tests point
``wavediff.modalities.__path__`` at a folder in ``tmp_path`` so that rooms being added to the repo
at the same time cannot change their outcome.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
import sys
import warnings
from pathlib import Path

import pytest
import wavediff.modalities
from _toy_rooms import Toy, _room_source, _toy_variant

from wavediff import modality as mod
from wavediff.errors import MissingDependencyError, ModalityError, UnknownModalityError, WavediffError
from wavediff.modality import (
    ENTRY_POINT_GROUP,
    Modality,
    available_modalities,
    get_modality,
    register_modality,
)


@pytest.fixture
def rooms_dir(tmp_path, monkeypatch, registry):
    """Make ``wavediff.modalities`` look for built-in rooms only in a fresh folder, and forget discovery.

    Yields the folder; a test can put ``<room>/adapter.py`` packages into it. Modules imported from it
    are removed from ``sys.modules`` (and from the package's attributes) afterwards.
    """
    folder = tmp_path / "rooms"
    folder.mkdir()
    monkeypatch.setattr(wavediff.modalities, "__path__", [str(folder)])
    mod._REGISTRY.clear()
    mod.refresh_modalities()
    before = set(sys.modules)
    importlib.invalidate_caches()
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("wavediff.modalities."):
            del sys.modules[name]
            child = name.rsplit(".", 1)[-1]
            if name.count(".") == 2 and hasattr(wavediff.modalities, child):
                delattr(wavediff.modalities, child)


@pytest.fixture
def forget_modules():
    """Remove the named top-level modules from ``sys.modules`` after the test."""
    names: list[str] = []
    yield names
    for name in names:
        sys.modules.pop(name, None)


# --------------------------------------------------------------------------- registration
def test_register_and_get(registry):
    assert register_modality(Toy) is Toy
    assert available_modalities()["toytest"] is Toy
    room = get_modality("toytest")
    assert isinstance(room, Toy) and room.sigma == 1.0
    assert repr(room) == "<Toy modality 'toytest'>"
    assert get_modality("toytest", sigma=0.25).sigma == 0.25  # keyword arguments go to the constructor
    assert get_modality("toytest") is not room  # a fresh instance every time


def test_available_modalities_is_a_sorted_copy(empty_registry):
    register_modality(_toy_variant("zeta"))
    register_modality(_toy_variant("alpha"))
    rooms = available_modalities()
    assert list(rooms) == ["alpha", "zeta"]
    rooms.clear()  # mutating the returned mapping does not touch the registry
    assert list(available_modalities()) == ["alpha", "zeta"]


def test_register_as_decorator(registry):
    @register_modality
    class Plain(Toy):
        name = "plaindeco"

    @register_modality(overwrite=True)
    class WithArgs(Toy):
        name = "argsdeco"

    assert inspect.isclass(Plain) and inspect.isclass(WithArgs)
    assert isinstance(get_modality("plaindeco"), Plain)
    assert isinstance(get_modality("argsdeco"), WithArgs)


def test_register_same_class_twice_is_harmless(registry):
    register_modality(Toy)
    register_modality(Toy)
    assert available_modalities()["toytest"] is Toy


def test_missing_abstract_methods_are_named(registry):
    class Partial(Modality):
        name = "partial"

        def read(self, path):
            return None

        def write(self, obj, path):
            return Path(path)

    with pytest.raises(ModalityError) as info:
        register_modality(Partial)
    message = str(info.value)
    assert "Partial" in message
    for method in ("to_tensor", "from_tensor", "degrade", "metrics", "demo"):
        assert method in message
    assert "read" not in message.split("implement ", 1)[1].split(";")[0].split(", ")
    assert isinstance(info.value, TypeError)  # ModalityError is documented as a TypeError
    assert "partial" not in registry


@pytest.mark.parametrize(
    "thing", [int, dict, object(), "toytest", Toy()], ids=["int", "dict", "instance", "str", "room"]
)
def test_non_modality_is_refused(registry, thing):
    with pytest.raises(ModalityError, match="not a subclass of wavediff.Modality"):
        register_modality(thing)


def test_duck_typed_class_is_refused(registry):
    duck = type("Duck", (), {name: getattr(Toy, name) for name in ("name", "read", "write", "to_tensor")})
    with pytest.raises(ModalityError, match="Duck.*derive your adapter from it"):
        register_modality(duck)


@pytest.mark.parametrize("bad", ["EEG", "", "1x", "e-eg", "e eg", "_eeg", "eeg.v2", None, 3])
def test_bad_names_are_refused(registry, bad):
    klass = _toy_variant(bad)
    with pytest.raises(ModalityError) as info:
        register_modality(klass)
    message = str(info.value)
    assert "ToyVariant.name=" in message and repr(bad) in message
    assert "lower-case identifier" in message
    assert bad not in registry


def test_name_with_trailing_newline_is_refused(registry):
    # BUG: _NAME uses '$', which also matches just before a trailing newline, so 'eeg\n' passes the
    # check and is registered under a key nobody can type (modality.py, _NAME and register_modality).
    with pytest.raises(ModalityError):
        register_modality(_toy_variant("eeg\n"))


@pytest.mark.parametrize("good", ["radar", "x", "ct_3d", "a1_b2"])
def test_good_names_are_accepted(registry, good):
    register_modality(_toy_variant(good))
    assert good in available_modalities()


@pytest.mark.parametrize("dims", [0, 4, -1, "2"])
def test_spatial_dims_must_be_1_2_or_3(registry, dims):
    with pytest.raises(ModalityError, match=r"spatial_dims=.*use 1, 2 or 3"):
        register_modality(_toy_variant("dimsroom", spatial_dims=dims))
    assert "dimsroom" not in registry


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_spatial_dims_accepted(registry, dims):
    register_modality(_toy_variant(f"dims{dims}", spatial_dims=dims))


def test_duplicate_name_from_another_class(registry):
    register_modality(Toy)
    other = _toy_variant("toytest")
    with pytest.raises(ModalityError) as info:
        register_modality(other)
    message = str(info.value)
    assert "'toytest'" in message and f"{Toy.__module__}.Toy" in message and "overwrite=True" in message
    assert available_modalities()["toytest"] is Toy  # unchanged by the refused registration

    assert register_modality(other, overwrite=True) is other
    assert type(get_modality("toytest")) is other


def test_registration_clears_an_earlier_failure(empty_registry):
    mod._FAILED["toytest"] = "somewhere failed to load: ImportError: x"
    register_modality(Toy)
    assert "toytest" not in mod._FAILED
    assert isinstance(get_modality("toytest"), Toy)


# --------------------------------------------------------------------------- unknown names
def test_unknown_modality_error_is_readable(empty_registry):
    register_modality(Toy)
    with pytest.raises(UnknownModalityError) as info:
        get_modality("no-such-room")
    exc = info.value
    text = str(exc)
    assert not text.startswith(("'", '"'))  # not KeyError's repr of the message
    assert text.startswith("no modality named 'no-such-room'")
    assert "toytest" in text  # lists what is registered
    assert "register_modality" in text  # and says what to do
    assert isinstance(exc, KeyError) and isinstance(exc, WavediffError)


def test_unknown_modality_is_a_keyerror(empty_registry):
    try:
        get_modality("nothing")
    except KeyError as exc:  # existing `except KeyError` code keeps working
        assert "nothing" in str(exc)
    else:  # pragma: no cover
        pytest.fail("get_modality of an unknown name did not raise")


def test_unknown_modality_with_empty_registry(empty_registry):
    with pytest.raises(UnknownModalityError, match="registered: none yet"):
        get_modality("eeg")


def test_unknown_modality_error_str_edge_cases():
    assert str(UnknownModalityError()) == ""
    assert str(UnknownModalityError("plain words")) == "plain words"
    assert repr(KeyError("plain words")) != str(UnknownModalityError("plain words"))


# --------------------------------------------------------------------------- discovery
def _install_plugin(site: Path, entry_points: str) -> None:
    """Lay out an installed distribution ``fake-room-plugin`` in ``site`` (module + dist-info)."""
    (site / "fake_room_plugin.py").write_text(
        _room_source("FakeRoom", "fakeroom", description="fake room plugin")
    )
    info = site / "fake_room_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-room-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_entry_point_plugin_is_discovered(tmp_path, monkeypatch, rooms_dir, forget_modules):
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site, f"[{ENTRY_POINT_GROUP}]\nfakeroom = fake_room_plugin:FakeRoom\n")
    forget_modules.append("fake_room_plugin")
    monkeypatch.syspath_prepend(str(site))

    assert importlib.metadata.version("fake-room-plugin") == "0.1"  # the distribution is really installed
    (ep,) = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name="fakeroom")
    assert ep.value == "fake_room_plugin:FakeRoom"

    mod.refresh_modalities()
    room = get_modality("fakeroom")
    assert type(room).__name__ == "FakeRoom"
    assert type(room).__module__ == "fake_room_plugin"
    assert Path(inspect.getfile(type(room))).parent == site
    assert available_modalities()["fakeroom"].description == "fake room plugin"
    assert not mod._FAILED


def test_plugin_installed_after_first_discovery_needs_refresh(
    tmp_path, monkeypatch, rooms_dir, forget_modules
):
    assert "fakeroom" not in available_modalities()  # discovery has run, without the plugin
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site, f"[{ENTRY_POINT_GROUP}]\nfakeroom = fake_room_plugin:FakeRoom\n")
    forget_modules.append("fake_room_plugin")
    monkeypatch.syspath_prepend(str(site))
    register_modality(Toy)  # a run-time registration survives the refresh

    mod.refresh_modalities()
    assert {"fakeroom", "toytest"} <= set(available_modalities())


def test_broken_plugin_warns_and_others_still_load(tmp_path, monkeypatch, rooms_dir, forget_modules):
    site = tmp_path / "site"
    site.mkdir()
    # the broken entry point comes first, so a failure that stopped the loop would hide fakeroom
    _install_plugin(
        site,
        f"[{ENTRY_POINT_GROUP}]\nbrokenroom = fake_room_plugin:NoSuchClass\nfakeroom = fake_room_plugin:FakeRoom\n",
    )
    forget_modules.append("fake_room_plugin")
    monkeypatch.syspath_prepend(str(site))
    # a built-in room beside them
    (rooms_dir / "goodbuiltin").mkdir()
    (rooms_dir / "goodbuiltin" / "__init__.py").write_text("")
    (rooms_dir / "goodbuiltin" / "adapter.py").write_text(
        _room_source("GoodBuiltin", "goodbuiltin", register=True)
    )
    mod.refresh_modalities()

    with pytest.warns(RuntimeWarning) as record:
        rooms = available_modalities()
    messages = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1
    assert "'brokenroom'" in messages[0]
    assert "fake_room_plugin:NoSuchClass" in messages[0] and "AttributeError" in messages[0]

    assert {"fakeroom", "goodbuiltin"} <= set(rooms)
    assert "brokenroom" not in rooms
    assert type(get_modality("fakeroom")).__name__ == "FakeRoom"
    assert type(get_modality("goodbuiltin")).__name__ == "GoodBuiltin"

    with pytest.raises(UnknownModalityError) as info:
        get_modality("brokenroom")
    text = str(info.value)
    assert "'brokenroom'" in text and "could not be loaded" in text and "failed to load" in text
    assert "NoSuchClass" in text


def test_plugin_that_is_not_a_modality_is_reported(tmp_path, monkeypatch, rooms_dir, forget_modules):
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site, f"[{ENTRY_POINT_GROUP}]\nnotaroom = fake_room_plugin:np\n")
    forget_modules.append("fake_room_plugin")
    monkeypatch.syspath_prepend(str(site))
    mod.refresh_modalities()
    with pytest.warns(RuntimeWarning, match="'notaroom'.*ModalityError"):
        with pytest.raises(UnknownModalityError, match="could not be loaded"):
            get_modality("notaroom")


def test_builtin_room_is_discovered(rooms_dir):
    room = rooms_dir / "fakebuiltin"
    room.mkdir()
    (room / "__init__.py").write_text("")
    (room / "adapter.py").write_text(_room_source("FakeBuiltin", "fakebuiltin", register=True))
    # a room folder without an adapter yet (work in progress) is skipped silently
    (rooms_dir / "wip").mkdir()
    (rooms_dir / "wip" / "__init__.py").write_text("")
    # plain modules in the package are not rooms
    (rooms_dir / "helpers.py").write_text("raise RuntimeError('must not be imported')\n")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rooms = available_modalities()
    assert "fakebuiltin" in rooms
    assert rooms["fakebuiltin"].__module__ == "wavediff.modalities.fakebuiltin.adapter"
    assert "wip" not in rooms and "wip" not in mod._FAILED


def test_builtin_room_with_missing_dependency_is_heard(rooms_dir, capsys):
    """A room whose field library is not installed is listed with the pip command of its extra."""
    room = rooms_dir / "needsdep"
    room.mkdir()
    (room / "__init__.py").write_text("")
    (room / "adapter.py").write_text("import wavediff_dependency_that_is_not_installed\n")
    assert "needsdep" not in available_modalities()
    hint = "pip install 'wavediff[needsdep]' (it needs wavediff_dependency_that_is_not_installed, which is not installed)"
    assert mod.missing_extras() == {"needsdep": hint}
    with pytest.raises(MissingDependencyError, match=re.escape(hint)):
        get_modality("needsdep")
    from wavediff import cli

    assert cli.main(["modalities"]) == 0
    assert f"needsdep   not available: {hint}" in capsys.readouterr().out


def test_builtin_room_broken_inside_wavediff_is_a_failure_not_a_missing_extra(rooms_dir):
    room = rooms_dir / "broken"
    room.mkdir()
    (room / "__init__.py").write_text("")
    (room / "adapter.py").write_text("import wavediff.no_such_engine_module\n")
    with pytest.warns(RuntimeWarning, match="'broken'.*no_such_engine_module"):
        assert "broken" not in available_modalities()
    assert "broken" not in mod.missing_extras()
    with pytest.raises(UnknownModalityError, match="could not be loaded"):
        get_modality("broken")


def test_discovery_runs_once_until_refreshed(rooms_dir):
    available_modalities()
    assert mod._DISCOVERED is True
    room = rooms_dir / "latecomer"
    room.mkdir()
    (room / "__init__.py").write_text("")
    (room / "adapter.py").write_text(_room_source("Latecomer", "latecomer", register=True))
    importlib.invalidate_caches()
    assert "latecomer" not in available_modalities()
    mod.refresh_modalities()
    assert mod._DISCOVERED is False
    assert "latecomer" in available_modalities()
