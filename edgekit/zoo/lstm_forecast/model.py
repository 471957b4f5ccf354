"""lstm-forecast, workstation side: the Keras model, its data windows, calibration and baselines.

Input ``window`` (1, 48, 2): for each of the last 48 half-hours, (a) the demand and (b) the demand one week
before the time HORIZON steps later, both standardised with the training mean/std. Channel (b)'s last HORIZON
rows are therefore exactly the weekly seasonal-naive forecast for the target times; the model learns a
correction to it from the recent trajectory (output = that forecast + LSTM residual, inside the graph).
Output ``forecast`` (1, 12): the next 12 half-hours, standardised; evaluate() converts to megawatts.

Chronological split of the 12 weeks (targets decide the split; inputs may reach back into earlier weeks):
  week 1      context only (the weekly lag of week 2)
  weeks 2-8   training targets      week 9  validation targets      weeks 10-12  held-out test targets
"""

from __future__ import annotations

import numpy as np

from edgekit.zoo._weights import load_weights
from edgekit.zoo.lstm_forecast import task, taylor
from edgekit.zoo.lstm_forecast.task import INPUT, OUTPUT

WINDOW = taylor.PER_DAY  # one day of half-hours
HORIZON = 12  # six hours ahead
FEATURES = 2
UNITS = 48
LAG = taylor.PER_WEEK
SPLITS = {"train": (1, 8), "validation": (8, 9), "heldout": (9, 12)}  # [first, last) week of the target times
WEIGHTS = "lstm_forecast.weights.h5"
META = "lstm_forecast.json"  # normalisation and training record, written by scripts/train_lstm_forecast.py


def build_model(unroll: bool = False):
    """unroll=True gives the form LiteRT converts (see the 'lstm' recipe); the weights are the same."""
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    inp = keras.Input(shape=(WINDOW, FEATURES), name=INPUT)
    h = layers.LSTM(UNITS, unroll=unroll, name="lstm")(inp)
    residual = layers.Dense(HORIZON, name="residual")(h)
    # The weekly-lag channel's last HORIZON rows: the seasonal-naive forecast for the target times.
    naive = layers.Reshape((HORIZON,), name="weekly_naive")(
        layers.Cropping1D((WINDOW - HORIZON, 0), name="lag_tail")(inp[:, :, 1:2]))
    out = layers.Add(name=OUTPUT)([naive, residual])
    return keras.Model(inp, {OUTPUT: out}, name="lstm_forecast")


def load_model(unroll: bool = False):
    return load_weights(build_model(unroll), WEIGHTS)


def normalisation(series: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and std of the training weeks (the only statistics the model may know)."""
    y = taylor.load_taylor() if series is None else series
    first, last = SPLITS["train"]
    train = y[first * LAG : last * LAG]
    return float(train.mean()), float(train.std())


def windows(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs (N, 48, 2) standardised, targets (N, 12) in MW, first target index (N,)) for every window
    whose HORIZON targets all fall in ``split``'s weeks, stride 1."""
    y = taylor.load_taylor()
    mean, std = normalisation(y)
    z = (y - mean) / std
    first, last = SPLITS[split]
    starts = np.arange(first * LAG, last * LAG - HORIZON + 1)  # index of the first target
    rows = starts[:, None] - WINDOW + np.arange(WINDOW)[None, :]  # input time steps
    x = np.stack([z[rows], z[rows + HORIZON - LAG]], axis=-1).astype(np.float32)
    targets = y[starts[:, None] + np.arange(HORIZON)[None, :]]
    return x, targets, starts


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    """Real training windows spread evenly over weeks 2-8 (never validation or held-out ones)."""
    x, _, _ = windows("train")
    return {INPUT: x[np.linspace(0, len(x) - 1, min(n, len(x))).round().astype(int)]}


def heldout_inputs() -> dict[str, np.ndarray]:
    return {INPUT: windows("heldout")[0]}


def eval_arrays(split: str = "heldout") -> dict[str, np.ndarray]:
    """A split's windows, their targets (MW) and the training normalisation (held-out: data/eval.npz of a
    bundle)."""
    x, targets, starts = windows(split)
    mean, std = normalisation()
    return {INPUT: x, "targets_mw": targets, "start": starts, "norm": np.array([mean, std])}


def demo_arrays() -> dict[str, np.ndarray]:
    """A stream: one window every 6 hours over the first held-out week."""
    d = eval_arrays()
    pick = np.arange(0, min(len(d[INPUT]), taylor.PER_WEEK), HORIZON)
    return {INPUT: d[INPUT][pick], "targets_mw": d["targets_mw"][pick], "start": d["start"][pick],
            "norm": d["norm"]}


def evaluate(predict: task.Predict, split: str = "heldout") -> dict[str, float]:
    """MAE / RMSE in megawatts over every window and horizon step of ``split`` (lstm_forecast.task)."""
    return task.evaluate(predict, eval_arrays(split))


def seasonal_naive(split: str = "heldout") -> dict[str, float]:
    """Same time last week and same time yesterday, on the same windows."""
    y = taylor.load_taylor()
    _, targets, starts = windows(split)
    steps = starts[:, None] + np.arange(HORIZON)[None, :]
    week, day = task.errors(y[steps - LAG], targets), task.errors(y[steps - taylor.PER_DAY], targets)
    return {"weekly_naive_mae_mw": week["mae_mw"], "weekly_naive_rmse_mw": week["rmse_mw"],
            "daily_naive_mae_mw": day["mae_mw"], "daily_naive_rmse_mw": day["rmse_mw"]}


def baseline() -> dict[str, float]:
    return seasonal_naive("heldout")
