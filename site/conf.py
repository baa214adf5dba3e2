"""Sphinx configuration of the course website; build it with `make site` (site/build.py).

Sphinx + MyST-NB + sphinx-book-theme: they build offline from the committed notebook
outputs (no execution). Jupyter Book 2 was tried first: its build fetches the site theme
from api.mystmd.org and fails without a network. Everything a page loads is served from
the build itself, so the site works opened from disk in a classroom with no network:
MathJax 3 from the sphinx-mathjax-offline package (PyPI), no widget manager (site/build.py
turns widgets into static pictures of their saved state), badges from site/badges.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from vae_tutorial import links  # noqa: E402

project = "Variational Autoencoders, hands-on"
author = "the vae-tutorial authors"
copyright = "the vae-tutorial authors"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
exclude_patterns = ["**.ipynb_checkpoints"]

# MyST-NB: render the stored outputs, never execute; no widget manager from a CDN
nb_execution_mode = "off"
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # README's "[Teaching it](#teaching-it)" and similar links

# MathJax 3.2.2 shipped by the sphinx-mathjax-offline package, copied into _static/mathjax.
# SVG output: no web fonts to load, so maths renders from file:// as well as over http.
_MATHJAX = importlib.util.find_spec("sphinx-mathjax-offline")
if _MATHJAX is None:
    raise RuntimeError("sphinx-mathjax-offline is not installed: pip install -e '.[site]'")
html_static_path = ["_static", str(Path(_MATHJAX.submodule_search_locations[0]) / "static")]
mathjax_path = "mathjax/tex-svg-full.js"
html_css_files = ["course.css"]

html_theme = "sphinx_book_theme"
html_title = project
html_context = {"default_mode": "light"}  # (projectors); an empty mode logs a console error
html_theme_options = {
    "repository_url": links.repository_url(),
    "repository_branch": links.BRANCH,
    "path_to_docs": "",  # site/build.py stages the sources as laid out in the repository
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
}

logger = logging.getLogger(__name__)


def _no_web_images(app, doctree, docname):
    """Warn (so the build fails) for an image the page would load from the web."""
    for image in doctree.findall(nodes.image):
        if "://" in image["uri"]:
            logger.warning(f"image loaded from the web: {image['uri']} (serve it locally; "
                           "see LOCAL_IMAGES in site/build.py)", location=image)
    for raw in doctree.findall(nodes.raw):
        if 'src="http' in raw.astext():
            logger.warning("raw HTML loads something from the web", location=raw)


def setup(app):
    app.connect("doctree-resolved", _no_web_images)
