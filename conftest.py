# The test_*.py scripts at the root are smoke checks of a running server, not unit tests.
collect_ignore_glob = ["test_*.py"]
