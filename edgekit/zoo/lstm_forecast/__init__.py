"""lstm-forecast: an LSTM that forecasts electricity demand 6 hours ahead from the last day.

``task`` is the device side (numpy only: de-normalising forecasts, MAE / RMSE in MW); ``model`` the workstation
side (the Keras model, Taylor's series from ``taylor``, windows, calibration, seasonal-naive baselines).
"""
