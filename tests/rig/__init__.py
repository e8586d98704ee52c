"""The test rig: a fake Databricks workspace (workspace.py), a fake `databricks` CLI
(fake_databricks.py), the tests' browser (browser.py), a private HOME/PATH for subprocesses
(sandbox.py) and a small HTTP client (http.py). Stdlib + trustme only."""
