"""The committed notebooks show what they claim: executed, no errors, every printed check a ✓ with
its numbers, graphs drawn as SVG and training shown as PNG plots (all with alt text), code that fits
an 800 px column, exercises that check themselves, small, and built from notebooks/src.

This reads the executed notebooks as committed; `pytest --nbmake notebooks/` runs them afresh.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import re
import tokenize
from pathlib import Path

import pytest
from tests.helpers import REPO

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]*_*.ipynb"))   # 01_name, 02b_name, ...
GRAPH_NOTEBOOKS = ("01", "02", "04")                 # must draw computation graphs (SVG)
PLOT_NOTEBOOKS = ("04", "05", "06", "07", "08")      # must show matplotlib plots (PNG)
MAX_BYTES = 1_000_000
MAX_SVG_WIDTH_PT = 840   # about 1120 px: course.show scales wider images down to the column, and
                         # past this the text gets too small to read at 800 px
MAX_SVG_HEIGHT_PT = 560  # about 750 px: a taller graph does not fit a screen
MAX_CODE_LINES = 12     # about 10 lines, and room for a call wrapped to fit 88 characters
MAX_LINE_LENGTH = 88     # longer lines scroll in a notebook column at 800 px
IMG = re.compile(r'<img src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"([^>]*)>')

ids = [path.stem for path in NOTEBOOKS]


def load(path: Path):
    return nbformat.read(path, as_version=4)


def outputs(nb):
    for cell in nb.cells:
        yield from cell.get("outputs", [])


def output_text(nb) -> str:
    """All the text a reader sees in outputs: streams and text/plain results."""
    parts = []
    for out in outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out and "text/plain" in out.data:
            parts.append(out.data["text/plain"])
    return "\n".join(parts)


def images(nb) -> list[tuple[str, bytes, str]]:
    """(mime, data, the rest of the <img> tag) for every image shown through course.show."""
    found = []
    for out in outputs(nb):
        for match in IMG.finditer(out.get("data", {}).get("text/html", "")):
            found.append((match.group(1), base64.b64decode(match.group(2)), match.group(3)))
    return found


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def exercise_cells(nb) -> list:
    """The code cells after the `## Exercises` heading."""
    start = next((i for i, cell in enumerate(nb.cells)
                  if cell.cell_type == "markdown" and "## Exercises" in cell.source), len(nb.cells))
    return [cell for cell in nb.cells[start:] if cell.cell_type == "code"]


def test_notebooks_the_curriculum_has_01_to_09():
    prefixes = sorted({path.name[:2] for path in NOTEBOOKS})
    missing = [f"{i:02d}" for i in range(1, 10) if f"{i:02d}" not in prefixes]
    assert not missing, f"notebooks {missing} are missing; found {[p.name for p in NOTEBOOKS]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_valid_and_small(path):
    nb = load(path)
    nbformat.validate(nb)
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size:,} bytes; keep it under {MAX_BYTES:,} (smaller SVGs, lower dpi)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_executed_in_order(path):
    counts = [cell.execution_count for cell in load(path).cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; rebuild it with python notebooks/build.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_no_errors(path):
    nb = load(path)
    errors = [out for out in outputs(nb) if out.output_type == "error"]
    assert not errors, f"{path.name}: error output {errors[0].get('ename')}: {errors[0].get('evalue')}"
    text = output_text(nb)
    assert "Traceback" not in text, f"{path.name}: a traceback was printed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_checks_all_pass(path):
    text = output_text(load(path))
    checks = [line for line in text.splitlines() if line.startswith("check ")]
    assert len(checks) >= 3, f"{path.name}: only {len(checks)} printed checks; each claim needs one"
    failed = [line for line in checks if not line.rstrip().endswith("✓")]
    assert not failed, f"{path.name}: checks that do not say ✓: {failed}"
    assert "✗" not in text, f"{path.name}: an output says ✗"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_checks_show_their_numbers(path):
    """`check claim: 0.25 vs 0.25 ✓`, not a bare ✓: the reader sees the evidence."""
    checks = [line for line in output_text(load(path)).splitlines() if line.startswith("check ")]
    bare = [line for line in checks if not re.search(r"\d", line.rsplit(": ", 1)[-1])]
    assert not bare, f"{path.name}: checks that show no number: {bare}"


def number(path: Path) -> str:
    """A notebook's number: "02" for 02_chain_rule..., "02b" for 02b_build_it_yourself."""
    return path.name.split("_")[0]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if number(p) in GRAPH_NOTEBOOKS],
                         ids=lambda p: p.stem)
def test_graph_notebook_draws_svg_graphs(path):
    mimes = {mime for mime, _, _ in images(load(path))}
    assert "image/svg+xml" in mimes, f"{path.name}: no SVG graph among the outputs"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if number(p) in PLOT_NOTEBOOKS],
                         ids=lambda p: p.stem)
def test_training_notebook_shows_png_plots(path):
    mimes = {mime for mime, _, _ in images(load(path))}
    assert "image/png" in mimes, f"{path.name}: no PNG plot among the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_images_have_alt_text(path):
    """Every figure goes through course.show(figure, alt=...): an <img> with alt text."""
    nb = load(path)
    bare = [mime for out in outputs(nb) for mime in out.get("data", {})
            if mime in ("image/png", "image/svg+xml", "image/jpeg")]
    assert not bare, f"{path.name}: a {bare[0]} output without alt text; show it with course.show"
    for mime, _, rest in images(nb):
        alt = re.search(r'alt="([^"]*)"', rest)
        assert alt and len(alt.group(1).split()) >= 4, (
            f"{path.name}: an {mime} image with alt text {alt.group(1) if alt else None!r}; "
            f"say in a sentence what it shows")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_graphs_fit_a_screen(path):
    for mime, data, _ in images(load(path)):
        if mime != "image/svg+xml":
            continue
        size = re.search(r'<svg[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"',
                         data.decode("utf-8"))
        assert size, f"{path.name}: an SVG without a size in pt"
        width, height = float(size.group(1)), float(size.group(2))
        assert width <= MAX_SVG_WIDTH_PT, (
            f"{path.name}: an SVG is {width}pt wide, over {MAX_SVG_WIDTH_PT}pt; draw less")
        assert height <= MAX_SVG_HEIGHT_PT, (
            f"{path.name}: an SVG is {height}pt tall, over {MAX_SVG_HEIGHT_PT}pt; draw it "
            f"left to right (rankdir='LR') or draw less")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_outputs_are_deterministic(path):
    nb = load(path)
    text = output_text(nb)
    assert not re.search(r"\d\d:\d\d<\d\d:\d\d|\d+\.\d+(it|step)/s", text), (
        f"{path.name}: a progress bar printed timings; use one without elapsed time or rate")
    assert not re.search(r" at 0x[0-9a-f]{6,}", text), f"{path.name}: an object address in an output"
    widgets = [out for out in outputs(nb) if "application/vnd.jupyter.widget-view+json" in out.get("data", {})]
    assert not widgets, f"{path.name}: a widget output (random model id, invisible once saved)"
    for cell in nb.cells:
        assert "execution" not in cell.metadata, f"{path.name}: cell timings were recorded"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_follows_the_cell_grammar(path):
    """Markdown before the first code cell; each code cell opens with a `# title` and is short."""
    nb = load(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), (
        f"{path.name}: should open with a Markdown title")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert lines and lines[0].startswith("# "), f"{path.name}: a code cell without a # title: {cell.source[:60]!r}"
        assert len(lines) <= MAX_CODE_LINES + 1, (
            f"{path.name}: a code cell of {len(lines) - 1} lines (keep to {MAX_CODE_LINES}): {lines[0]}")
        long = [line for line in lines if len(line) > MAX_LINE_LENGTH]
        assert not long, f"{path.name}: a line over {MAX_LINE_LENGTH} characters: {long[0][:60]}..."


def semicolons(source: str) -> list[str]:
    """The lines of a code cell that chain statements with `;` (strings and comments aside)."""
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                       for line in source.splitlines())
    tokens = tokenize.generate_tokens(io.StringIO(python + "\n").readline)
    return [tok.line.strip() for tok in tokens if tok.type == tokenize.OP and tok.string == ";"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_no_semicolon_chains(path):
    chained = [line for cell in code_cells(load(path)) for line in semicolons(cell.source)]
    assert not chained, f"{path.name}: `a; b` on one line (one statement a line): {chained[0]}"


def test_semicolons_finds_a_chain_and_ignores_strings():
    assert semicolons("# t\nx = 1; y = 2\nprint('a; b')  # c; d") == ["x = 1; y = 2"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_asserts_nothing_about_time(path):
    """A cell that measures time prints it and draws it; a time depends on the machine's load."""
    for cell in code_cells(load(path)):
        if re.search(r"perf_counter|timed\(|time\.time\(", cell.source):
            assert not re.search(r"\bcheck\(|\bassert\b", cell.source), (
                f"{path.name}: a cell both measures and asserts: {cell.source.splitlines()[0]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_ends_with_exercises_that_check_themselves(path):
    """2-4 fill-in exercises, each a blank that raises NotImplementedError and a check that uses
    the student's answer (or, while it is blank, the reference in notebooks/solutions/)."""
    nb = load(path)
    cells = exercise_cells(nb)
    assert cells, f"{path.name}: no `## Exercises` section with code cells"
    blanks = [cell for cell in cells if "raise NotImplementedError" in cell.source]
    assert 2 <= len(blanks) <= 4, f"{path.name}: {len(blanks)} fill-in exercises; give 2 to 4"
    checks = [cell for cell in cells if "exercise(" in cell.source and "check(" in cell.source]
    assert len(checks) >= len(blanks), (
        f"{path.name}: {len(blanks)} exercises but {len(checks)} cells that check an answer")
    module = NOTEBOOKS_DIR / "solutions" / f"n{number(path)}.py"
    assert module.exists(), f"{path.name}: the reference solutions {module} are missing"
    text = "\n".join(out.get("text", "") for cell in checks for out in cell.get("outputs", []))
    assert text.count("check ") >= len(checks), f"{path.name}: an exercise check printed no check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_shows_no_solution_code(path):
    """Static renders (GitHub, nbviewer) show every cell: solutions stay in notebooks/solutions/."""
    nb = load(path)
    shown = [cell.source.splitlines()[0] for cell in code_cells(nb)
             if cell.source.startswith("# Solution")
             or cell.metadata.get("jupyter", {}).get("source_hidden")]
    assert not shown, f"{path.name}: solution code in the notebook: {shown[0]}"


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_matches_its_source(path):
    """The committed notebook was built from notebooks/src (rebuild: python notebooks/build.py)."""
    source = NOTEBOOKS_DIR / "src" / f"{path.stem}.txt"
    assert source.exists(), f"{path.name}: no source {source}"
    cells = _build_module().parse(source.read_text(encoding="utf-8"))
    nb = load(path)
    assert [cell.source for cell in nb.cells] == [text for _, text in cells], (
        f"{path.name} differs from {source.name}; rebuild it with python notebooks/build.py {path.name[:2]}")


@pytest.mark.slow
def test_notebook_08_runs_without_torch(tmp_path, monkeypatch):
    """Every PyTorch cell of notebook 08 prints a note instead of failing when torch is missing."""
    nbclient = pytest.importorskip("nbclient")
    path = next((p for p in NOTEBOOKS if number(p) == "08"), None)
    assert path is not None, "notebook 08 is missing"
    stub = tmp_path / "torch"
    stub.mkdir()
    (stub / "__init__.py").write_text('raise ImportError("PyTorch is hidden for this test")\n')
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = load(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}}).execute()
    text = output_text(nb)
    torch_cells = [cell for cell in nb.cells if cell.cell_type == "code" and "if torch is None" in cell.source]
    assert text.count("PyTorch is not installed") >= len(torch_cells) > 0, "a PyTorch cell printed no note"
    failed = [line for line in text.splitlines() if line.startswith("check ") and not line.rstrip().endswith("✓")]
    assert not failed, f"checks that do not say ✓ without torch: {failed}"
