"""diffusion-digits: a small denoising diffusion model of handwritten digits; the deployed artifact is the denoiser.

``task`` is the device side (numpy only: the DDIM sampler, time embedding, fidelity and speed); ``model`` the
workstation side (the Keras U-Net, calibration on the sampler's own inputs, the judge metrics, baseline).
"""
