"""gan-digits: a small DCGAN generator of handwritten digits (only the generator is deployed).

``task`` is the device side (numpy only: latents, fidelity to fp32); ``model`` the workstation side (the Keras
generator, the judge metrics from edgekit.zoo.digits, calibration, baseline).
"""
