"""Keeping framework output (TensorFlow's C++ start-up lines, calibrators' progress bars, converter logs) out of
the user's terminal, for the CLI and the Python API alike."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings


@contextlib.contextmanager
def framework_output_captured():
    """Send file descriptors 1 and 2 to a scratch file while frameworks run; yield a stream to the real stderr.

    TensorFlow's C++ start-up lines, the TFLite calibrator and NNCF's progress bars write straight to the
    file descriptors, so logging settings cannot silence them, and they would corrupt --json output.
    --debug skips this.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import logging

    for name in ("nncf", "tensorflow", "tf2onnx", "absl", "onnxruntime", "keras", "torch", "litert_torch",
                 "ai_edge_quantizer", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as scratch:
        for fd in saved:
            os.dup2(scratch.fileno(), fd)
        terminal = os.fdopen(os.dup(saved[2]), "w", buffering=1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            terminal.close()
