"""gnn-grid: a graph convolutional network that estimates the AC state of the IEEE 118-bus grid from injections.

``task`` is the device side (numpy only: decoding the state, the errors against the solver); ``model`` the
workstation side (the Keras model, splits, calibration, baselines); ``grid`` solves the power flows (pandapower).
"""
