"""Launch links are built from the one repository slug."""

from vae_tutorial import links


def test_links_use_the_one_slug():
    path = "notebooks/05_variational_autoencoder.ipynb"
    assert links.binder_url(path) == (f"https://mybinder.org/v2/gh/{links.REPOSITORY}/"
                                      f"{links.BRANCH}?urlpath=lab/tree/{path}")
    assert links.colab_url(path).endswith(f"{links.REPOSITORY}/blob/{links.BRANCH}/{path}")
    assert links.repository_url() == f"https://github.com/{links.REPOSITORY}"
