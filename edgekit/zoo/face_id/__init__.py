"""face-id: a small residual CNN that identifies people and embeds faces for open-set enrolment.

``task`` is the device side (numpy only: gallery, cosine matching with rejection, the metric); ``model`` the
workstation side (the Keras model, ORL data from ``orl``, calibration, training, baseline).
"""
