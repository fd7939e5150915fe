"""``fit`` and ``evaluate`` for Keras models, with cnnbook.torch's signatures and History."""

from __future__ import annotations

import time

import keras

from cnnbook.progress import EpochProgress, History


class _ProgressCallback(keras.callbacks.Callback):
    def __init__(self, bar: EpochProgress, history: History, train):
        super().__init__()
        self.bar, self.history, self.train, self.start = bar, history, train, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        self.bar.start_epoch(epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(batch + 1, loss=float(logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        # Keras's "loss" is the running mean in training mode; evaluate() runs in inference
        # mode (Dropout off), like the validation figures.
        self.history.add(logs["loss"], evaluate(self.model, self.train),
                         (logs["val_loss"], logs["val_accuracy"]),
                         time.perf_counter() - self.start)
        self.bar.end_epoch(self.history.summary())


def compile_for_logits(model, optimizer=None):
    """Compile for integer labels and logit outputs, measuring accuracy."""
    model.compile(optimizer=optimizer or keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def fit(model, train, validation, epochs: int, optimizer=None, progress: bool = True) -> History:
    """Train a Keras model on the ``train`` dataset; evaluate after each epoch.

    As ``cnnbook.torch.fit``: after each epoch, loss and accuracy on ``validation`` and on
    ``train`` in inference mode. Compiles the model for logits and integer labels (Adam 1e-3
    unless ``optimizer``) if it is not compiled yet. Returns a :class:`History`.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if not model.compiled:
        compile_for_logits(model, optimizer)
    history = History()
    bar = EpochProgress(epochs, int(train.cardinality()), enabled=progress)
    model.fit(train, epochs=epochs, validation_data=validation, verbose=0, shuffle=False,
              callbacks=[_ProgressCallback(bar, history, train)])  # the dataset shuffles itself
    return history


def evaluate(model, test):
    """(mean loss, accuracy) of a compiled model on a dataset."""
    loss, accuracy = model.evaluate(test, verbose=0)
    return float(loss), float(accuracy)
