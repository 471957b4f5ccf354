"""Any model on the device: the samples packed with it through the artifact, compared with the workstation.

    python app/app.py --demo        # each packed demo sample: what the model answers (top-3 of score vectors)
    python app/app.py --evaluate    # device vs workstation outputs of the same artifact (SNR, top-1 agreement),
                                    # and top-1 accuracy when the samples came with labels
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.agent.generic import demo, evaluate  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
