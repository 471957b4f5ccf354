"""edgekit.apps: one device program per zoo model (``<name>/app.py`` + ``app.toml``), shipped as package data so a
wheel install packages them too (found with importlib.resources). Nothing here is imported by edgekit: each app
runs on the device, from a bundle, against edgekit's device layer (edgekit.agent, edgekit.runtime, edgekit.zoo
task modules) and numpy."""
