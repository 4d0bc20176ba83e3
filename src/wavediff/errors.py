"""Exceptions raised by wavediff.

Every error says what was wrong and what to do about it. Each class also derives from the built-in
exception a caller would naturally catch (``ValueError``, ``KeyError``, ``OSError``), so existing
``except ValueError`` code keeps working.
"""

from __future__ import annotations

__all__ = [
    "WavediffError",
    "InvalidInputError",
    "ShapeError",
    "NonFiniteError",
    "UnknownWaveletError",
    "LevelTooDeepError",
    "SampleRateError",
    "UnsupportedFormatError",
    "CorruptFileError",
    "DataNotFoundError",
    "UnknownModalityError",
    "ModalityError",
    "CheckpointError",
    "ConfigError",
    "DeviceError",
    "MissingDependencyError",
    "OutputError",
    "OutputExistsError",
    "DataWarning",
]


class WavediffError(Exception):
    """Base class of every error raised on purpose by wavediff."""


class InvalidInputError(WavediffError, ValueError):
    """An argument has an invalid value (empty array, wrong dtype, out-of-range parameter)."""


class ShapeError(InvalidInputError):
    """An array has the wrong number of dimensions or mismatching sizes."""


class NonFiniteError(InvalidInputError):
    """An array holds NaN or infinite values."""


class UnknownWaveletError(InvalidInputError):
    """The wavelet name is unknown to PyWavelets, or the wavelet is not orthonormal where one is required."""


class LevelTooDeepError(InvalidInputError):
    """The decomposition level is too deep for the signal size and filter length."""


class SampleRateError(InvalidInputError):
    """A sampling rate is missing, non-positive, or incompatible with the model."""


class UnsupportedFormatError(WavediffError, ValueError):
    """A file format or object type that the modality cannot read or write."""


class CorruptFileError(WavediffError, OSError):
    """A file is empty, truncated or otherwise unreadable."""


class DataNotFoundError(WavediffError, FileNotFoundError):
    """An input file, a folder or a data set is missing (the message says what to pass or how to download it)."""


class UnknownModalityError(WavediffError, KeyError):
    """No modality is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class ModalityError(WavediffError, TypeError):
    """A modality class does not fulfil the Modality contract."""


class CheckpointError(WavediffError, OSError):
    """A checkpoint is missing, incomplete or does not match the model configuration."""


class ConfigError(WavediffError, ValueError):
    """A recipe or configuration file is missing keys or has invalid values."""


class DeviceError(WavediffError, RuntimeError):
    """The requested compute device is unavailable."""


class MissingDependencyError(WavediffError, ImportError):
    """An optional library that a room or feature needs is not installed (the message gives the pip command)."""


class OutputError(WavediffError, OSError):
    """An output path cannot be used: it is an input or a folder, or its folder is missing or not writable."""


class OutputExistsError(OutputError, FileExistsError):
    """The output file exists already: pass ``overwrite=True`` (``--overwrite``) to replace it."""


class DataWarning(UserWarning):
    """Something about the data that the user should know: a truncated file, flat channels, a rate or
    amplitudes outside the model's range, a fallback taken. Turn it into an error with
    ``warnings.simplefilter("error", DataWarning)`` (``--strict`` on the command line)."""
