"""JupyterLab as the course runs it: `make lab` and tests/browser/test_lab.py load this file.

The course works offline, so Lab makes no request of its own beyond the machine: no news feed,
no update check, and an extension manager that does not search PyPI. It listens on 127.0.0.1
only, behind its token. Root is allowed because course containers often run as root.
"""
c = get_config()  # noqa: F821 (Jupyter's config loader defines it)
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.allow_root = True
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
