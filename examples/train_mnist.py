"""A small MNIST classifier with two classic head/loss/label mismatches."""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

NUM_CLASSES = 10

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0

model = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Dense(128, activation="relu"),
    layers.Dense(NUM_CLASSES, activation="softmax"),
])
# The labels are integer class ids, but this loss expects one-hot vectors.
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5, batch_size=128)

# A binary "is it a zero?" model whose output layer can only ever say 1.0.
is_zero = (y_train == 0).astype("float32")
detector = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="softmax"),
])
detector.compile(optimizer="adam", loss="binary_crossentropy")
detector.fit(x_train, is_zero, epochs=3)
