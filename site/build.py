"""Build the course website from the committed notebooks, without executing anything.

    python site/build.py            # what `make site` runs: site/_build/html/index.html

Sphinx with MyST-NB and sphinx-book-theme (site/conf.py) renders the notebooks' stored
outputs. Sphinx reads a staged copy of the course in site/_build/src, laid out as in the
repository (so launch buttons get the repository paths) and prepared for a site that is
opened from disk with no network:

- ``index.md`` is README.md, with the notebook names in its table linked to their pages;
  markdown files at the repository root that README.md links to (an instructors' guide)
  are pages too, listed with NOTATION.md under "Reference";
- every notebook gets its Colab badge and set-up cell (``vae_tutorial.colab``; a no-op
  once the committed notebooks carry them);
- ipywidgets outputs become a static picture of their saved state: the sliders at their
  saved values (disabled) and the saved figure or image. No widget manager JavaScript is
  needed, which would otherwise come from a CDN, and whose version MyST-NB loads by
  default cannot render ipywidgets 8 state anyway;
- badge images from the web (Colab, Binder) are replaced by local copies in site/badges;
- a relative link to a repository file that is not a page (a script, a folder) becomes a
  GitHub link; a link to a file that does not exist is left alone, so Sphinx reports it.

Warnings fail the build (``-W``): broken cross-references, missing images, unknown
lexers, math Sphinx cannot parse, and any image still loaded from the web (conf.py).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
BUILD = SITE / "_build"
sys.path.insert(0, str(ROOT))  # the course package of this checkout, even if not installed
from vae_tutorial import colab, links  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# web images we serve locally instead (file names in site/badges)
LOCAL_IMAGES = {
    colab.BADGE_IMAGE: "colab-badge.svg",
    "https://mybinder.org/badge_logo.svg": "binder-badge.svg",
}
_LINK_RE = re.compile(r"\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


# --------------------------------------------------------------------------- widgets


def _label(values: dict) -> str:
    return f'<label>{html.escape(values.get("description", ""))}</label>'


def _widget_html(state: dict, model_id: str) -> str:
    """HTML for the widget ``model_id`` as saved in ``state`` (the notebook's widget state):
    boxes, sliders, selections, checkboxes, buttons, text values, HTML, images and Output
    widgets' stored outputs. ``ValueError`` for a kind it cannot picture."""
    model = state.get(model_id)
    if model is None:
        return ""
    name, values = model["model_name"], model["state"]
    if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel",
                "TabModel"):
        children = "".join(_widget_html(state, child.removeprefix("IPY_MODEL_"))
                           for child in values.get("children", []))
        direction = "row" if name == "HBoxModel" else "column"
        return (f'<div class="static-widget-box" style="flex-direction: {direction}">'
                f"{children}</div>")
    if name in ("FloatSliderModel", "IntSliderModel", "SelectionSliderModel"):
        if name == "SelectionSliderModel":
            labels = values["_options_labels"]
            low, high, step, at = 0, len(labels) - 1, 1, values.get("index", 0)
            readout = labels[at]
        else:
            low, high, at = values.get("min", 0), values.get("max", 100), values.get("value", 0)
            step = values.get("step", 0.1 if name == "FloatSliderModel" else 1)
            readout = (format(at, values.get("readout_format", ".2f"))
                       if name == "FloatSliderModel" else str(at))
        return ('<div class="static-widget-slider">' + _label(values)
                + f'<input type="range" disabled min="{low}" max="{high}" step="{step}" '
                f'value="{at}" aria-label="{html.escape(values.get("description", ""))}">'
                f'<span class="static-widget-readout">{html.escape(readout)}</span></div>')
    if "_options_labels" in values:  # Dropdown, RadioButtons, ToggleButtons, Select, ...
        index = values.get("index")
        indices = index if isinstance(index, list) else [] if index is None else [index]
        chosen = ", ".join(values["_options_labels"][i] for i in indices)
        return (f'<div class="static-widget-value">{_label(values)}'
                f"<span>{html.escape(chosen)}</span></div>")
    if name in ("CheckboxModel", "ToggleButtonModel"):
        checked = " checked" if values.get("value") else ""
        return (f'<div class="static-widget-value">{_label(values)}'
                f'<input type="checkbox" disabled{checked}></div>')
    if name == "ButtonModel":
        return (f'<button class="static-widget-button" disabled>'
                f'{html.escape(values.get("description", ""))}</button>')
    if name in ("HTMLModel", "HTMLMathModel"):
        return f'<div class="static-widget-html">{values.get("value", "")}</div>'
    if name == "OutputModel":
        parts = []
        for output in values.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                parts.append(f'<img src="data:image/png;base64,{_joined(data["image/png"])}" '
                             f'alt="{html.escape(_joined(data.get("text/plain", "figure")))}">')
            elif "text/plain" in data or "text" in output:
                text = _joined(data.get("text/plain", output.get("text", "")))
                parts.append(f"<pre>{html.escape(text)}</pre>")
        return f'<div class="static-widget-output">{"".join(parts)}</div>'
    if name == "ImageModel":
        buffers = {tuple(b["path"]): b["data"] for b in model.get("buffers", [])}
        data = buffers.get(("value",), "")
        if not data:
            return ""
        size = "".join(f' {key}="{values[key]}"' for key in ("width", "height") if values.get(key))
        return (f'<img class="static-widget-image" src="data:image/{values.get("format", "png")};'
                f'base64,{data}"{size} alt="decoded image">')
    if "value" in values:  # Label, Text, IntText, FloatLogSlider, range sliders, ...
        value = values["value"]
        shown = " - ".join(map(str, value)) if isinstance(value, list) else str(value)
        return (f'<div class="static-widget-value">{_label(values)}'
                f"<span>{html.escape(shown)}</span></div>")
    raise ValueError(f"no static picture for a {name} widget; add one to site/build.py")


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def static_widgets(nb: NotebookNode) -> int:
    """Replace each widget output of ``nb`` by HTML showing its saved state; drop the widget
    state (so no widget manager is loaded); return how many outputs were replaced."""
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            body = _widget_html(state, view["model_id"])
            if not body:
                body = "<p>(the widget's saved state is missing: run the notebook)</p>"
            output["data"] = {
                "text/html": (
                    '<div class="static-widget">'
                    '<p class="static-widget-note">Interactive when the notebook runs (launch '
                    "it on Binder or Colab with the buttons at the top of the page); shown "
                    f"here as it was saved.</p>{body}</div>"),
                "text/plain": _joined(output["data"].get("text/plain", "")),
            }
            replaced += 1
    return replaced


# --------------------------------------------------------------------------- links


def rewrite_markdown(text: str, doc_dir: str, pages: set[str], root: Path = ROOT) -> str:
    """``text`` (markdown of a page whose source sits in ``doc_dir`` of the repository at
    ``root``) with web badge images made local and links to non-page repository files made
    GitHub links. ``pages``: repository paths that are site pages."""
    depth = len(Path(doc_dir).parts)
    for url, local in LOCAL_IMAGES.items():
        text = text.replace(f"]({url})", f"]({'../' * depth}badges/{local})")

    def link(match: re.Match) -> str:
        target = match[1]
        if target.startswith("#") or _SCHEME_RE.match(target):
            return match[0]
        path, _, anchor = target.partition("#")
        repo_path = (Path(doc_dir) / path).as_posix()
        resolved = (root / repo_path).resolve()
        if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
            return match[0]  # Sphinx reports it
        relative = resolved.relative_to(root.resolve()).as_posix()
        if relative == "README.md":  # staged as the home page, index.md
            home = os.path.relpath("index.md", doc_dir or ".")
            return f"]({home}{'#' + anchor if anchor else ''}{match[2] or ''})"
        if relative in pages or relative.startswith("site/badges/"):
            return match[0]
        kind = "tree" if resolved.is_dir() else "blob"
        url = f"{links.repository_url()}/{kind}/{links.BRANCH}/{relative}"
        return f"]({url}{'#' + anchor if anchor else ''}{match[2] or ''})"

    return _LINK_RE.sub(link, text)


def index_markdown(readme: str, notebooks: list[str]) -> str:
    """README.md as the site's home page: notebook names in backticks become links."""
    for name in notebooks:
        stem = Path(name).stem
        readme = re.sub(rf"(?<!\[)`{re.escape(stem)}`(?!\])",
                        f"[`{stem}`](notebooks/{name})", readme)
    return readme


# --------------------------------------------------------------------------- staging


def linked_documents(readme: str, root: Path) -> list[str]:
    """Markdown files at the repository root that README.md links to (an instructors'
    guide, say): they become pages of the site too."""
    found = []
    for match in _LINK_RE.finditer(readme):
        target = match[1].partition("#")[0]
        if not target or _SCHEME_RE.match(target):
            continue
        path = (root / target).resolve()
        if (path.suffix == ".md" and path.is_file() and path.parent == root.resolve()
                and path.name != "README.md" and path.name not in found):
            found.append(path.name)
    return found


def stage(dest: Path, root: Path = ROOT) -> list[str]:
    """Write the prepared sources of the course at ``root`` to ``dest`` (emptied first);
    return the pages' source names (without index.md)."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "notebooks").mkdir(parents=True)
    shutil.copytree(SITE / "badges", dest / "badges")
    paths = sorted((root / "notebooks").glob("*.ipynb"))
    names = [path.name for path in paths]
    readme = (root / "README.md").read_text(encoding="utf-8")
    documents = linked_documents(readme, root)
    pages = ({f"notebooks/{name}" for name in names} | {"notebooks/NOTATION.md", "README.md"}
             | set(documents))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        colab.apply(nb, path)
        static_widgets(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = rewrite_markdown(cell.source, "notebooks", pages, root)
        nbformat.write(nb, dest / "notebooks" / path.name)
    for page in ["notebooks/NOTATION.md", *documents]:
        text = (root / page).read_text(encoding="utf-8")
        (dest / page).write_text(rewrite_markdown(text, str(Path(page).parent), pages, root),
                                 encoding="utf-8")
    notebooks = "\n".join(f"notebooks/{Path(name).stem}" for name in names)
    reference = "\n".join(["notebooks/NOTATION", *(Path(doc).stem for doc in documents)])
    (dest / "index.md").write_text(
        index_markdown(rewrite_markdown(readme, "", pages, root), names)
        + f"\n\n```{{toctree}}\n:hidden:\n:caption: Notebooks\n\n{notebooks}\n```\n"
        + f"\n```{{toctree}}\n:hidden:\n:caption: Reference\n\n{reference}\n```\n",
        encoding="utf-8")
    return [f"notebooks/{name}" for name in names] + ["notebooks/NOTATION.md", *documents]


def build(out: Path = BUILD / "html", root: Path = ROOT, work: Path = BUILD,
          quiet: bool = True) -> Path:
    """Stage the course at ``root`` into ``work``/src and run Sphinx on it, warnings as
    errors; return ``out``. ``SystemExit`` naming the staged sources if it fails."""
    from sphinx.cmd.build import build_main

    src = work / "src"
    stage(src, root)
    args = ["-b", "html", "-W", "--keep-going", "-n", "-c", str(SITE),
            "-d", str(work / "doctrees"), str(src), str(out)]
    if quiet:
        args.insert(0, "-q")
    if build_main(args) != 0:
        raise SystemExit(f"the site build failed (warnings above); sources staged in {src}")
    # the page's download button offers the notebook itself (widget state and all), not
    # the staged copy with pictures in place of widgets
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        colab.apply(nb, path)
        nbformat.write(nb, out / "_sources" / "notebooks" / path.name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BUILD / "html", help="the HTML folder")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the course to build (default: this checkout)")
    parser.add_argument("--work", type=Path, default=BUILD,
                        help="where the staged sources and Sphinx's cache go")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = build(args.out, args.root.resolve(), args.work, quiet=not args.verbose)
    print(f"site built in {time.perf_counter() - start:.1f} s: open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
