"""The Modality protocol and its registry.

A *modality* (a "room") adapts one scientific field to the engine: it reads and writes the field's
native formats, turns native objects into normalised float tensors ``(batch, channels, *spatial)`` and
back, simulates the field's real degradations, and computes the field's own metrics.

Rooms are found in two ways, so a third party can add one without touching wavediff:

* built-in rooms: every ``wavediff.modalities.<room>.adapter`` module, imported on first use. A room's
  field libraries are the optional dependencies ``wavediff[<room>]``; when one is missing the room is
  listed by :func:`missing_extras` and :func:`get_modality` says which ``pip install`` brings it;
* plugins: the entry-point group ``wavediff.modalities``, e.g. in a plugin's ``pyproject.toml``::

      [project.entry-points."wavediff.modalities"]
      radar = "wavediff_radar.adapter:Radar"

A class can also be registered at run time with :func:`register_modality`.
"""

from __future__ import annotations

import abc
import contextlib
import fnmatch
import functools
import importlib
import importlib.metadata
import inspect
import os
import pkgutil
import re
import secrets
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import (
    ConfigError,
    CorruptFileError,
    DataNotFoundError,
    InvalidInputError,
    MissingDependencyError,
    ModalityError,
    UnknownModalityError,
    UnsupportedFormatError,
    WavediffError,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:  # annotations only: the registry stays importable without loading torch
    import numpy as np
    import torch

    from .measurement import Measurement

__all__ = [
    "Modality",
    "register_modality",
    "get_modality",
    "available_modalities",
    "missing_extras",
    "atomic_output",
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "wavediff.modalities"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Modality(abc.ABC):
    """Base class of every room.

    Subclasses set the class attributes and implement the abstract methods. Every method takes and
    returns the field's native objects (or numpy arrays) and never modifies its inputs.

    Attributes
    ----------
    name : str
        Registry key, lower case (``"eeg"``, ``"seismic"``).
    description : str
        One line shown by ``wavediff modalities``.
    spatial_dims : int
        Number of spatial axes of the tensors this room produces (1, 2 or 3). The class value is the
        default; an instance may set its own in ``__init__`` (one room serving 2-D slices and 3-D
        volumes), and the model it trains is built for the instance's value.
    extensions : tuple of str
        File suffixes :meth:`read` understands, lower case with the dot (``".edf"``).
    free_settings : tuple of str
        Settings that only change how restoring tiles the data (a window overlap), not what the model
        sees: a room may use other values than the model was trained with.
    write_extensions : tuple of str
        Suffixes :meth:`write` can produce (default: :attr:`extensions`).

    Notes
    -----
    The engine wraps every room's :meth:`read` and :meth:`write` (in ``__init_subclass__``), so each
    room inherits the same safety. Before the room's ``read`` runs, a missing path, a folder, an empty
    file and an unknown suffix are refused; the format library's warnings become
    :class:`~wavediff.errors.DataWarning` naming the file (errors with ``strict=True``); and any
    exception the library raises on a damaged file becomes a :class:`~wavediff.errors.CorruptFileError`.
    Before the room's ``write`` runs, :meth:`check_output` refuses an output that is the object's
    source file (:meth:`source_files`), one that exists unless ``overwrite=True``, a missing or
    read-only folder and an unwritable format.

    A room's *layout settings* are the keys of its recipe's ``[data]`` section (sampling rate, window,
    overlap, patch size, context channels...). The constructor takes each of them as a keyword,
    defaulting to the recipe's value, and :meth:`settings` returns them as the instance uses them.
    :func:`wavediff.pipeline.train` builds the room from the recipe it trains with, records
    :meth:`settings` in the checkpoint, and :class:`wavediff.Restorer` builds the room from that
    record, so a model restores with the layout it was trained with.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    spatial_dims: int = 1
    extensions: ClassVar[tuple[str, ...]] = ()
    free_settings: ClassVar[tuple[str, ...]] = ()
    write_extensions: ClassVar[tuple[str, ...] | None] = None
    ignored_warnings: ClassVar[tuple[str, ...]] = ()  # library notes about file names, not content
    reads_folders: ClassVar[bool] = False  # a recording that is a folder of files (a DICOM series)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, wrap in (("read", _checked_read), ("write", _checked_write)):
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "_wavediff_checked", False):
                setattr(cls, name, wrap(method))

    # ---------------------------------------------------------------- native I/O
    @abc.abstractmethod
    def read(self, path: str | os.PathLike) -> Any:
        """Read a file in one of the field's formats into the room's native object.

        Called as ``read(path, strict=False)``: see the class notes for what the engine checks first.
        """

    @abc.abstractmethod
    def write(self, obj: Any, path: str | os.PathLike) -> Path:
        """Write ``obj`` in the format implied by ``path``, atomically (see :func:`atomic_output`).

        Called as ``write(obj, path, overwrite=False)``: :meth:`check_output` runs first.
        """

    def check_output(self, path: str | os.PathLike, *, inputs: Any = (), overwrite: bool = False, label: str = "output") -> Path:
        """Refuse an output path before any work (see :func:`wavediff.guards.check_output`): one of
        ``inputs`` (paths), an existing file unless ``overwrite``, a missing or read-only folder, or a
        suffix not in :attr:`write_extensions`. Every file a write would create (:meth:`companion_files`)
        is checked."""
        from .guards import check_output

        sources = [f for p in inputs for f in self.companion_files(Path(p))]
        formats = self.write_extensions if self.write_extensions is not None else self.extensions
        return check_output(path, formats=formats, inputs=sources, overwrite=overwrite, files=self.companion_files, label=label)

    def companion_files(self, path: Path) -> list[Path]:
        """The files that make up the recording at ``path`` (a BrainVision header and its marker and
        data files); default: ``path`` alone."""
        return [Path(path)]

    def describe(self, obj: Any) -> str:
        """One line saying what was read (shown by ``wavediff restore``, so that a truncated file shows)."""
        shape = getattr(obj, "shape", None)
        return f"a {type(obj).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")

    def source_files(self, obj: Any) -> list[Path]:
        """The files ``obj`` was read from, which :meth:`write` never replaces (default: none known)."""
        return []

    # ---------------------------------------------------------------- tensors
    @abc.abstractmethod
    def to_tensor(self, obj: Any) -> tuple[torch.Tensor, dict[str, Any]]:
        """Native object -> (float tensor ``(batch, channels, *spatial)`` at about unit scale, context).

        The context holds everything :meth:`from_tensor` needs to rebuild the native object exactly.
        """

    @abc.abstractmethod
    def from_tensor(self, tensor: torch.Tensor, context: dict[str, Any]) -> Any:
        """Inverse of :meth:`to_tensor`: ``from_tensor(*to_tensor(x))`` equals ``x``."""

    # ---------------------------------------------------------------- evaluation
    @abc.abstractmethod
    def degrade(self, clean: Any, rng: np.random.Generator, **level: Any) -> Any:
        """Simulate the field's corruption of ``clean`` at the given level, reproducibly from ``rng``."""

    @abc.abstractmethod
    def metrics(self, reference: Any, estimate: Any) -> dict[str, float]:
        """The field's standard metrics of ``estimate`` against ``reference``."""

    @abc.abstractmethod
    def demo(self, out_dir: str | os.PathLike, seed: int = 0) -> dict[str, Any]:
        """Offline demo for ``wavediff demo <room>``: degrade, restore, print a metrics table and write
        a before/after figure into ``out_dir``; returns the table and the figure path."""

    # ---------------------------------------------------------------- layout
    def settings(self) -> dict[str, Any]:
        """The layout settings this instance uses (its recipe's ``[data]`` keys), JSON-serialisable.

        ``type(room)(**room.settings())`` rebuilds an equivalent room; checkpoints record this dict.
        Rooms with settings override it (the default: none).
        """
        return {}

    # ---------------------------------------------------------------- learning (optional hooks)
    def training_data(self, recipe: dict[str, Any], seed: int = 0, data: str | os.PathLike | None = None) -> Any:
        """A batch function ``fn(generator, batch_size) -> (clean, degraded)`` of tensors in the room's
        tensor layout, for :func:`wavediff.pipeline.train`. Rooms with a learned model override this.

        ``data`` is a folder of the user's own files in the room's formats (:meth:`data_files`): the
        room builds its training pairs from them (its degradations applied to their content) instead
        of from its simulator.
        """
        raise ModalityError(f"modality {self.name!r} does not provide training data; it has no learned model yet")

    def data_files(self, folder: str | os.PathLike, exclude: Any = ()) -> list[Path]:
        """The files under ``folder`` (recursively, sorted) whose suffix is one of :attr:`extensions`,
        less those whose path relative to it matches a glob of ``exclude`` (the recipe's held-out files).

        Raises :class:`~wavediff.errors.DataNotFoundError` when the folder is missing or holds none.
        """
        root = Path(folder)
        if not root.is_dir():
            raise DataNotFoundError(f"--data {root}: no such folder; pass a folder of {self.name} files")
        exts = tuple(e.lower() for e in self.extensions)
        found = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(exts))
        found = [p for p in found if not any(fnmatch.fnmatch(p.relative_to(root).as_posix(), g) for g in exclude or ())]
        if not found:
            raise DataNotFoundError(
                f"{root} holds no {self.name} files ({', '.join(self.extensions) or 'no formats declared'}); "
                "put the recordings to train on there"
            )
        return found

    def uncertainty_from_tensor(self, std: torch.Tensor, context: dict[str, Any]) -> Any:
        """Map a per-element standard deviation in tensor space to a native object of the same kind."""
        raise ModalityError(f"modality {self.name!r} cannot map uncertainties back to native objects yet")

    def measurement(self, obj: Any, context: dict[str, Any]) -> Measurement | None:
        """The operator and noise model that made ``obj`` (:class:`~wavediff.measurement.Measurement`).

        Rooms that reconstruct declare them, so the pipeline knows what ``y`` is; None (the default) means
        the room denoises in place (identity operator, its own degradations)."""
        return None

    def accepts(self, obj: Any) -> bool:
        """Whether ``obj`` is a native object of this room (used by :func:`wavediff.restore` to pick a room)."""
        return False

    @classmethod
    def weights_path(cls) -> Path:
        """``weights.safetensors`` beside the adapter (the shipped default model, with its ``.json``)."""
        return Path(inspect.getfile(cls)).with_name("weights.safetensors")

    # ---------------------------------------------------------------- recipe
    @classmethod
    def recipe_path(cls) -> Path:
        """``recipe.toml`` beside the module that defines the class."""
        return Path(inspect.getfile(cls)).with_name("recipe.toml")

    @classmethod
    def default_recipe(cls) -> dict[str, Any]:
        """The room's default settings (wavelet, levels, net size, sampler, training budget)."""
        path = cls.recipe_path()
        if not path.is_file():
            raise ConfigError(f"modality {cls.name!r} has no recipe at {path}; add a recipe.toml beside its adapter")
        try:
            with open(path, "rb") as fh:
                return tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); save it as UTF-8 and fix the syntax") from exc

    def __repr__(self) -> str:
        return f"<{type(self).__name__} modality {self.name!r}>"


# -------------------------------------------------------------------- the engine's read and write checks
def _checked_read(read: Any) -> Any:
    @functools.wraps(read)
    def checked(self: Modality, path: str | os.PathLike, *args: Any, strict: bool = False, **kwargs: Any) -> Any:
        from .guards import library_warnings

        p = Path(path)
        if p.is_dir() and not self.reads_folders:
            raise InvalidInputError(f"{p} is a folder; pass one {self.name} file ({', '.join(self.extensions)})")
        if self.extensions and not p.is_dir() and not p.name.lower().endswith(tuple(e.lower() for e in self.extensions)):
            raise UnsupportedFormatError(
                f"{p.name}: the {self.name} room does not read {p.suffix or 'files without a suffix'!r}; "
                f"use one of {', '.join(self.extensions)}"
            )
        if not p.exists():
            raise DataNotFoundError(f"{p}: no such file; check the path")
        if p.is_file() and p.stat().st_size == 0:
            raise CorruptFileError(f"{p} is empty (0 bytes); the file was not written completely")
        with library_warnings(p, strict=strict, ignore=self.ignored_warnings):
            try:
                return read(self, p, *args, **kwargs)
            except WavediffError:
                raise
            except MemoryError:
                raise CorruptFileError(f"{p}: its header asks for more memory than this machine has; the header is damaged") from None
            except Exception as exc:  # whatever the format library raises on a damaged file
                raise CorruptFileError(
                    f"{p} could not be read ({type(exc).__name__}: {exc}); the file is truncated, damaged or not a {self.name} file"
                ) from exc

    checked._wavediff_checked = True  # type: ignore[attr-defined]
    return checked


def _checked_write(write: Any) -> Any:
    @functools.wraps(write)
    def checked(self: Modality, obj: Any, path: str | os.PathLike, *args: Any, overwrite: bool = False, **kwargs: Any) -> Any:
        self.check_output(path, inputs=self.source_files(obj), overwrite=overwrite)
        return write(self, obj, path, *args, **kwargs)

    checked._wavediff_checked = True  # type: ignore[attr-defined]
    return checked


# -------------------------------------------------------------------- registry
_REGISTRY: dict[str, type[Modality]] = {}
_FAILED: dict[str, str] = {}
_MISSING: dict[str, tuple[str, str]] = {}  # room -> (missing module, extra that installs it)
_DISCOVERED = False


def register_modality(cls: type[Modality] | None = None, *, overwrite: bool = False) -> Any:
    """Register a :class:`Modality` subclass under ``cls.name``; usable as a class decorator.

    Raises :class:`~wavediff.errors.ModalityError` when the class does not fulfil the contract or the
    name is taken (pass ``overwrite=True`` to replace it).
    """

    def _register(klass: type[Modality]) -> type[Modality]:
        if not (inspect.isclass(klass) and issubclass(klass, Modality)):
            raise ModalityError(f"{klass!r} is not a subclass of wavediff.Modality; derive your adapter from it")
        if inspect.isabstract(klass):
            missing = sorted(getattr(klass, "__abstractmethods__", ()))
            raise ModalityError(f"{klass.__name__} does not implement {', '.join(missing)}; implement them to register it")
        if not isinstance(klass.name, str) or not _NAME.fullmatch(klass.name):
            raise ModalityError(
                f"{klass.__name__}.name={klass.name!r}; set a lower-case identifier such as 'eeg' as the class attribute name"
            )
        if klass.spatial_dims not in (1, 2, 3):
            raise ModalityError(f"{klass.__name__}.spatial_dims={klass.spatial_dims!r}; use 1, 2 or 3")
        current = _REGISTRY.get(klass.name)
        if current is not None and current is not klass and not overwrite:
            raise ModalityError(
                f"modality name {klass.name!r} is already registered by {current.__module__}.{current.__name__}; "
                "choose another name or pass overwrite=True"
            )
        _REGISTRY[klass.name] = klass
        _FAILED.pop(klass.name, None)
        return klass

    return _register if cls is None else _register(cls)


def _builtin_rooms() -> Iterator[str]:
    try:
        package = importlib.import_module("wavediff.modalities")
    except ImportError:  # pragma: no cover - broken install
        return
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg:
            yield info.name


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for room in _builtin_rooms():
        module = f"wavediff.modalities.{room}.adapter"
        try:
            importlib.import_module(module)  # the adapter registers itself with @register_modality
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue  # a folder without an adapter is not a room
            if exc.name and exc.name != "wavediff" and not exc.name.startswith("wavediff."):
                # a field library of the room is not installed: say which extra brings it
                _MISSING[room] = (exc.name.split(".")[0], room)
                continue
            _note_failure(room, module, exc)
        except Exception as exc:  # a broken room must not take the others down, but must be heard
            _note_failure(room, module, exc)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY:
            continue
        try:
            register_modality(ep.load())
        except Exception as exc:
            _note_failure(ep.name, ep.value, exc)


def _note_failure(name: str, where: str, exc: BaseException) -> None:
    _FAILED[name] = f"{where} failed to load: {type(exc).__name__}: {exc}"
    warnings.warn(f"wavediff modality {name!r} is unavailable: {_FAILED[name]}", RuntimeWarning, stacklevel=3)


def refresh_modalities() -> None:
    """Forget discovery results so newly installed plugins are found (run-time registrations are kept)."""
    global _DISCOVERED
    _DISCOVERED = False
    _FAILED.clear()
    _MISSING.clear()


def available_modalities() -> Mapping[str, type[Modality]]:
    """Registered modality classes by name (built-ins, plugins and run-time registrations)."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def missing_extras() -> Mapping[str, str]:
    """Built-in rooms that cannot load because a field library is missing: room -> the pip command.

    Examples
    --------
    >>> isinstance(missing_extras(), dict)
    True
    """
    _discover()
    return {room: _install_hint(module, extra) for room, (module, extra) in sorted(_MISSING.items()) if room not in _REGISTRY}


def _install_hint(module: str, extra: str) -> str:
    return f"pip install 'wavediff[{extra}]' (it needs {module}, which is not installed)"


def get_modality(name: str, **kwargs: Any) -> Modality:
    """Instantiate the modality registered as ``name`` (keyword arguments go to its constructor).

    Examples
    --------
    >>> from wavediff import get_modality
    >>> get_modality("no-such-room")
    Traceback (most recent call last):
    ...
    wavediff.errors.UnknownModalityError: no modality named 'no-such-room'; ...
    """
    _discover()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none yet"
        if name in _MISSING:
            module, extra = _MISSING[name]
            raise MissingDependencyError(f"the {name} room needs its field libraries: {_install_hint(module, extra)}")
        if name in _FAILED:
            raise UnknownModalityError(f"modality {name!r} could not be loaded: {_FAILED[name]}")
        raise UnknownModalityError(
            f"no modality named {name!r}; registered: {known}. Install the plugin that provides it, "
            f"or register a class with wavediff.register_modality"
        )
    cls = _REGISTRY[name]
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError:
        accepted = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
        unknown = sorted(set(kwargs) - set(accepted))
        raise ConfigError(
            f"the {name} room has no setting {', '.join(map(repr, unknown)) or 'of that form'}; "
            f"its settings are {', '.join(accepted) or 'none'} (the keys of its recipe's [data] section)"
        ) from None
    return cls(**kwargs)


# -------------------------------------------------------------------- atomic output
@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path`` in one step.

    Writers write to the yielded path; if they raise, the temporary file is removed and ``path`` is
    untouched, so a crash never leaves a half-written result. ``suffix`` defaults to ``path``'s own,
    for libraries that choose the format from the file name.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "out.npy")
    >>> with atomic_output(target) as tmp:
    ...     np.save(tmp, np.zeros(3))
    >>> np.load(target).shape
    (3,)
    """
    target = Path(path)
    if not target.parent.exists():
        raise FileNotFoundError(f"folder {target.parent} does not exist; create it before writing {target.name}")
    suffix = "".join(target.suffixes) if suffix is None else suffix
    # created as open() would create it (mode 0o666 less the umask, read back without touching the process
    # umask, which other threads share); the result gets that mode, or the mode of the file it replaces,
    # even when the writer swapped the temporary for a private file of its own
    while True:
        tmp = target.parent / f".{target.stem}.{secrets.token_hex(6)}.tmp{suffix}"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    mode = (target if target.exists() else tmp).stat().st_mode & 0o777
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
