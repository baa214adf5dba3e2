"""Where the course lives online: ``REPOSITORY`` (GitHub ``owner/name``) and ``BRANCH`` are
the only copies of its address. The README's badges, each notebook's Colab badge and set-up
cell and the website's launch buttons are made from them (tests check they agree). A
``path`` is relative to the repository root, e.g. ``notebooks/05_variational_autoencoder.ipynb``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

REPOSITORY = "vae-tutorial/vae-tutorial"
BRANCH = "main"


def binder_url(path: str) -> str:
    """A mybinder.org link that builds the repository and opens ``path`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/{path}"


def colab_url(path: str) -> str:
    """A Google Colab link that opens ``path`` from GitHub."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{path}"


def repository_url() -> str:
    """The repository's GitHub address (what the Colab set-up cell installs from)."""
    return f"https://github.com/{REPOSITORY}"


def nbgitpuller_url(hub_url: str, path: str = "notebooks/01_autoencoder.ipynb") -> str:
    """A link for a JupyterHub with nbgitpuller at ``hub_url`` (e.g.
    ``https://hub.example.edu``): it clones the course (or updates an earlier copy, keeping
    the learner's edits) into ``~/<repository name>`` of the learner's own server and opens
    ``path`` in JupyterLab. See INSTRUCTORS.md."""
    folder = REPOSITORY.split("/")[1]
    query = {"repo": repository_url(), "branch": BRANCH, "urlpath": f"lab/tree/{folder}/{path}"}
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?" + urlencode(
        query, safe="", quote_via=quote)
