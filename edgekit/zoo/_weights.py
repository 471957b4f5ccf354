"""The zoo's shipped weights and training records (edgekit/zoo/weights/), read as package resources."""

from __future__ import annotations

import hashlib
import json
from importlib import resources


def _resource(filename: str):
    return resources.files("edgekit.zoo") / "weights" / filename


def load_weights(model, filename: str):
    """Load the shipped ``filename`` into ``model`` (a Keras model built by the zoo module); return the model."""
    with resources.as_file(_resource(filename)) as path:
        model.load_weights(str(path))
    return model


def read_json(filename: str) -> dict:
    return json.loads(_resource(filename).read_text(encoding="utf-8"))


def sha256(filename: str) -> str:
    return hashlib.sha256(_resource(filename).read_bytes()).hexdigest()
