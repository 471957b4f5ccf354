"""Equivalent rewrites of a Keras 3 model that a given exporter needs (same weights, same outputs).

* ``unrolled``: recurrent layers with ``unroll=True``. LiteRT cannot take Keras 3's while-loop LSTM: dynamic
  batch fails on TensorListReserve and int8 calibration of the loop crashes the process.
* ``onnx-lstm``: LSTM cells whose bias is a BiasAdd. tf2onnx rewrites the Keras while loop into one native
  ONNX LSTM op only when the cell matches Keras 2's op pattern; Keras 3 adds the bias with AddV2, so
  without this rewrite the export is a generic Loop that ORT and OpenVINO run slowly and quantize badly.
* ``native``: the model as it is.
"""

from __future__ import annotations

from edgekit.errors import UsageError

FORMS = ("native", "unrolled", "onnx-lstm")


def _bias_add_lstm_call(self, inputs, states, training=False):
    # Keras 3 LSTMCell.call (implementation 2, inference) with tf.nn.bias_add in place of ops.add.
    import tensorflow as tf

    h_tm1, c_tm1 = states
    z = tf.matmul(inputs, self.kernel) + tf.matmul(h_tm1, self.recurrent_kernel)
    if self.use_bias:
        z = tf.nn.bias_add(z, self.bias)
    c, o = self._compute_carry_and_output_fused(tf.split(z, 4, axis=1), c_tm1)
    h = o * self.activation(c)
    return h, [h, c]


def _bias_add_cell_class(cell_class):
    return type(f"BiasAdd{cell_class.__name__}", (cell_class,), {"call": _bias_add_lstm_call})


def has_recurrent_layers(model) -> bool:
    import keras

    return any(isinstance(layer, keras.layers.RNN) for layer in _all_layers(model))


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        if hasattr(layer, "forward_layer"):  # Bidirectional
            yield layer.forward_layer
            yield layer.backward_layer


def keras_form(model, form: str):
    """``model`` rewritten into ``form``; the original is left untouched."""
    if form not in FORMS:
        raise UsageError(f"Unknown Keras export form '{form}'.", got=form, tip=f"Known forms: {', '.join(FORMS)}.")
    if form == "native" or not has_recurrent_layers(model):
        return model
    import keras

    def clone(layer):
        config = layer.get_config()
        if form == "unrolled" and isinstance(layer, keras.layers.RNN):
            config["unroll"] = True
        new = layer.__class__.from_config(config)
        if form == "onnx-lstm" and isinstance(layer, keras.layers.LSTM):
            new.cell.__class__ = _bias_add_cell_class(type(new.cell))
        return new

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
