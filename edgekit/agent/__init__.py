"""The agent: what runs on the device (a Raspberry Pi, a Jetson or an Intel NPU box) and nothing else.

Needs only the standard library, numpy and one runtime. A bundle carries this package under lib/, so a flashed
app runs with ``python3`` alone: ``python3 -m edgekit.agent {verify,activate,status,profile}`` with
``PYTHONPATH=<release>/lib``. Releases live in ``<root>/releases/<id>``; ``<root>/current`` is a symlink to
the active one, switched by one rename so an app is never half-replaced.
"""
