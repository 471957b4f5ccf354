"""tiny-transformer: a compact Transformer encoder that spots 10 spoken keywords in 1-second clips.

``task`` is the device side (numpy only: the classes, the metric); ``model`` the workstation side (the Keras
model, calibration, baseline); ``speech`` synthesises the clips with espeak-ng and computes log-mel features.
"""
