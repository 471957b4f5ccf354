"""plate-ocr: a compact CNN that reads a whole Chinese licence plate in one pass (per-position heads).

``task`` is the device side (numpy only: the alphabet, decoding, the metric); ``model`` the workstation side
(the Keras model, calibration, fine-tuning set); ``plates`` renders the plates it is trained and tested on.
"""
