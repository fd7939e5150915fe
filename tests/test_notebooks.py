"""Keep the book honest: every notebook is in the toc, stored executed, light and offline."""

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
MAX_BYTES = 2 * 1024 * 1024
IGNORE_TAG = "nbval-ignore-output"  # nbval leaves the outputs of such a cell unchecked


def toc_files(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        if "file" in node:
            found.add(node["file"])
        if "root" in node:
            found.add(node["root"])
        for value in node.values():
            found |= toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found |= toc_files(item)
    return found


def resolve(entry: str) -> Path | None:
    for suffix in ("", ".ipynb", ".md"):
        path = ROOT / (entry + suffix)
        if path.is_file():
            return path
    return None


def code_cells(path: Path):
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under chapters/"


def test_toc_and_notebooks_match():
    entries = toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    missing = sorted(e for e in entries if resolve(e) is None)
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"
    listed = {resolve(e) for e in entries}
    unlisted = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if p not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_executed_top_to_bottom(path):
    cells = code_cells(path)
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name} is not stored executed top to bottom from a clean kernel (counts {counts}); "
        "run `make execute NB=...`")
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name} holds error outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_light_and_offline(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    source = "\n".join("".join(c["source"]) for c in code_cells(path))
    # The nbval run blocks the network for real; this catches the intent earlier.
    offenders = re.findall(r"https?://|urlopen|requests\.get|full\s*=\s*True", source)
    assert not offenders, f"{path.name} code reaches for the network: {offenders}"


def calls(tree: ast.AST, name: str) -> bool:
    """Whether ``tree`` calls ``name(...)`` or ``anything.name(...)``."""
    return any(isinstance(node, ast.Call)
               and getattr(node.func, "attr", getattr(node.func, "id", None)) == name
               for node in ast.walk(tree))


def parse(cell) -> ast.Module:
    # IPython magics (%timeit, !ls) are not Python: blank them out before parsing.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line
             for line in "".join(cell["source"]).splitlines()]
    return ast.parse("\n".join(lines))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_code_cell_seeds(path):
    first = parse(code_cells(path)[0])
    top_level = [stmt for stmt in first.body if isinstance(stmt, ast.Expr)]
    assert any(calls(stmt, "seed_everything") for stmt in top_level), (
        f"{path.name}: the first code cell must call cnnbook.seed_everything(...) "
        "(a call, at the top level of the cell)")


def is_ignored(cell) -> bool:
    return IGNORE_TAG in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_ignored_outputs_are_tagged_and_checked(path):
    cells = code_cells(path)
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        # Test scaffolding lives in cell tags, which the book does not show readers.
        assert "NBVAL" not in source, (
            f"{path.name} code cell {i + 1}: use the cell tag '{IGNORE_TAG}', not a comment")
        if is_ignored(cell):
            following = cells[i + 1] if i + 1 < len(cells) else None
            assert following is not None and not is_ignored(following) and any(
                isinstance(node, ast.Assert) for node in ast.walk(parse(following))), (
                f"{path.name} code cell {i + 1} is tagged {IGNORE_TAG}: the next code cell "
                "must assert what its output shows, with a margin that holds on any CPU")


# What JupyterLab's MyST renderer (jupyterlab-myst) shows as the book does; tests/browser/test_lab.py
# checks it in a browser. Roles that point into other pages ({doc}, {term}, {cite}, {ref}) are
# Sphinx's alone: Lab shows dead links or bare keys, so notebooks use Markdown links instead.
LAB_DIRECTIVES = {"exercise", "solution", "admonition", "note", "tip", "warning", "important",
                  "math"}
DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{([\w:-]+)\}", re.M)
ROLE = re.compile(r"(?<!`)\{([\w:-]+)\}`")


def markdown(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_renders_in_jupyterlab(path):
    text = markdown(path)
    directives = set(DIRECTIVE.findall(text)) - LAB_DIRECTIVES
    assert not directives, (
        f"{path.name} uses directives JupyterLab does not render: {sorted(directives)}")
    roles = set(ROLE.findall(text)) - {"math"}
    assert not roles, (
        f"{path.name} uses roles JupyterLab cannot resolve: {sorted(roles)}; link with Markdown: "
        "[stride](../../glossary.md#term-stride), "
        "[[He *et al.*, 2016a](../../bibliography.md#cite-he2016)], "
        "[Its title](../02-pooling/02-from-scratch.ipynb)")
