"""Numbers quoted in the READMEs and docstrings are in the results file they cite.

A paragraph (of a README, or of a docstring in the package) that names a results file
(``benchmarks/results/<name>.md``) or a benchmark (``benchmarks/<name>.py``, ``python3 -m
benchmarks.<name>``) is a claim about that file: every measured number in it (a decimal such as
``0.272`` or ``24.7 s``, or a percentage such as ``41 %``) must appear in the results file. A claim
that outlives a rerun of its benchmark fails here until it is rewritten from the new results.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SOURCES = ("src", "modalities", "datasets")

# benchmark names -> the results file they write (the EEG sections all go into eeg.md)
_CITE = re.compile(r"benchmarks(?:/results/(?P<md>[a-z_]+)\.md|[/.](?P<bench>[a-z_]+)(?:\.py|/|\b))")
_NUMBER = re.compile(r"(?<![\w.])(?P<num>-?\d+\.\d+|\d+(?=\s?%))(?![\w.]*\d)")


def _results_file(name: str) -> Path:
    stem = name.split(".")[0]
    if stem.startswith("eeg") and not (RESULTS / f"{stem}.md").is_file():
        stem = "eeg"
    return RESULTS / f"{stem}.md"


def _paragraphs() -> list[tuple[str, str]]:
    """(where, text) for every README paragraph and every docstring paragraph of the package."""
    out = []
    readmes = [ROOT / "README.md", *sorted((ROOT / "modalities").glob("*/README.md"))]
    for path in readmes:
        for i, block in enumerate(re.split(r"\n\s*\n", path.read_text())):
            out.append((f"{path.relative_to(ROOT)} paragraph {i + 1}", block))
    for root in SOURCES:
        for path in sorted((ROOT / root).rglob("*.py")):
            tree = ast.parse(path.read_text())
            nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
            for node in nodes:
                doc = ast.get_docstring(node)
                if doc:
                    name = getattr(node, "name", "module")
                    out += [(f"{path.relative_to(ROOT)}:{name}", block) for block in re.split(r"\n\s*\n", doc)]
    return out


def _is_benchmark(name: str) -> bool:
    return (ROOT / "benchmarks" / f"{name}.py").is_file() or (ROOT / "benchmarks" / name / "__init__.py").is_file()


def _claims() -> list[tuple[str, str, Path]]:
    claims = []
    for where, text in _paragraphs():
        cited = {
            _results_file(m.group("md") or m.group("bench"))
            for m in _CITE.finditer(text)
            if m.group("md") or _is_benchmark(m.group("bench"))
        }
        for path in sorted(cited):
            claims.append((where, text, path))
    return claims


def _present(number: str, results: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", results) is not None


def test_claims_are_found():
    assert len(_claims()) >= 5, "the READMEs cite their benchmarks; the scan should find those paragraphs"


@pytest.mark.parametrize("where, text, path", [pytest.param(*c, id=f"{c[0]} -> {c[2].name}") for c in _claims()])
def test_quoted_numbers_are_in_the_cited_results(where, text, path):
    assert path.is_file(), f"{where} cites {path.relative_to(ROOT)}, which does not exist"
    results = path.read_text()
    quoted = [m.group("num") for m in _NUMBER.finditer(_CITE.sub(" ", text))]
    missing = [n for n in quoted if not _present(n, results)]
    assert not missing, f"{where} quotes {missing}, absent from {path.relative_to(ROOT)}: rerun or reword\n{text}"


def test_cited_benchmarks_and_results_exist():
    """A paragraph that points to a benchmark script or results file points to one that exists."""
    stale = []
    for where, text in _paragraphs():
        prose = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith((">>>", "...")))
        for m in re.finditer(r"benchmarks/(?P<path>[a-z_/]+\.(?:py|md))", prose):
            if not (ROOT / "benchmarks" / m.group("path")).is_file():
                stale.append(f"{where}: benchmarks/{m.group('path')}")
    assert not stale, stale


def test_the_checker_catches_a_stale_number(tmp_path):
    """The check itself can fail: a number that the results file lacks is reported."""
    results = "| wavediff | 0.272 |\n41 % below"
    assert _present("0.272", results) and _present("41", results)
    assert not _present("0.27", results) and not _present("0.2721", "| 0.272 |")
    text = "Measured by benchmarks/eeg.py: RRMSE 0.271, 41 % below ICA."
    quoted = [m.group("num") for m in _NUMBER.finditer(_CITE.sub(" ", text))]
    assert quoted == ["0.271", "41"]
    assert [n for n in quoted if not _present(n, results)] == ["0.271"]
