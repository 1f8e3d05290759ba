"""redis-tests share the fixtures and hooks of tests/integration/conftest.py
(node, node_factory, r, crash check, logs of failed tests)."""
import importlib.util
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "dynamo_integration_conftest",
    os.path.join(_HERE, "..", "tests", "integration", "conftest.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

for _name in dir(_mod):
    if _name.startswith("pytest_") or _name in ("node", "node_factory", "r",
                                                 "_nodes_stay_alive"):
        globals()[_name] = getattr(_mod, _name)
