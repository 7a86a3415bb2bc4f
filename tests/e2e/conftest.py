"""The browser test's notebook is run by tests/e2e/test_jupyterlab.py in JupyterLab, not by nbmake."""

collect_ignore_glob = ["*.ipynb"]
