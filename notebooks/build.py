"""Build the notebook curriculum: notebooks/src/NN_name.txt -> notebooks/NN_name.ipynb, executed.

Each source file is a list of cells, each opened by a marker line:
    === md ===        a Markdown cell
    === code ===      a code cell
    === solution ===  a code cell whose source is collapsed in Jupyter (older notebooks' exercise
                      solutions; static renders show them, so new notebooks use notebooks/solutions/)
Everything up to the first marker is a comment for whoever edits the file and is dropped. Names sort
in reading order: NN_name, then NNb_name for a notebook inserted after NN (02b after 02).
Exercise solutions are not in the notebooks (static renders would show them): they live in
notebooks/solutions/nNN.py, and each exercise's check uses them while the student's answer is blank.

    python notebooks/build.py            # build and execute every notebook
    python notebooks/build.py 03 05      # only the notebooks whose names start with 03 or 05
                                         # (02 also builds 02b; 02_ only 02)
    python notebooks/build.py --no-execute

The notebooks are executed with nbclient in notebooks/ (as `pytest --nbmake` does) and written with
their outputs. The outputs are deterministic (seeded) except for printed timings: a cell that measures
time prints it and draws it, and asserts nothing about it, so a rebuild changes only those numbers
unless a source or the library changed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
MARKER = re.compile(r"^=== (md|code|solution) ===$")
PATTERN = "[0-9][0-9]*_*"   # 01_name, 02b_name, ...
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
MAX_BYTES = 1_000_000


def parse(text: str) -> list[tuple[str, str]]:
    """[(kind, source)] from a source file's text."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            cells.append((match.group(1), []))
        elif cells:
            cells[-1][1].append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def make_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """An unexecuted notebook with stable cell ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, (kind, source) in enumerate(cells):
        cell_id = f"cell-{i:03d}"
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(source, id=cell_id))
        else:
            cell = nbformat.v4.new_code_cell(source, id=cell_id)
            if kind == "solution":
                cell.metadata = {"jupyter": {"source_hidden": True}, "tags": ["solution"]}
            nb.cells.append(cell)
    return nb


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def _settle_carriage_returns(text: str) -> str:
    """What a terminal shows for `text`: each line as last redrawn after a carriage return."""
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def scrub(nb: nbformat.NotebookNode) -> None:
    """Make the saved outputs what a reader sees, and the same on every run.

    Consecutive stream outputs are merged and progress-bar redraws ("\\r") settled to their final
    state (Jupyter shows them that way, but static renderers print every redraw); object addresses
    in text reprs are removed.
    """
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            if (output.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == output.name):
                merged[-1].text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = _settle_carriage_returns(output.text)
            data = output.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = _ADDRESS.sub(">", data["text/plain"])
        if "outputs" in cell:
            cell.outputs = merged


def build(source: Path, execute: bool = True) -> Path:
    """Write notebooks/<stem>.ipynb from its source, executed unless execute=False."""
    nb = make_notebook(parse(source.read_text(encoding="utf-8")))
    target = HERE / f"{source.stem}.ipynb"
    if execute:
        client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(HERE)}})
        client.execute()
        scrub(nb)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="build only notebooks whose names start with these")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without outputs")
    args = parser.parse_args(argv)
    os.environ.pop("MPLBACKEND", None)  # the notebooks choose `%matplotlib inline` themselves
    sources = sorted(SOURCES.glob(f"{PATTERN}.txt"))  # 05b_... sits between 05 and 06
    if args.only:
        sources = [s for s in sources if s.stem.startswith(tuple(args.only))]
    if not sources:
        print(f"no sources matched {args.only} in {SOURCES}", file=sys.stderr)
        return 1
    too_big = []
    for source in sources:
        start = time.perf_counter()
        target = build(source, execute=not args.no_execute)
        size = target.stat().st_size
        print(f"{target.name}: {size / 1000:.0f} kB, built in {time.perf_counter() - start:.1f} s")
        if size > MAX_BYTES:
            too_big.append(target.name)
    if too_big:
        print(f"over {MAX_BYTES / 1e6:g} MB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
