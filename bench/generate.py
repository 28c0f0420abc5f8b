"""A generated tree of N realistic training scripts (Keras and PyTorch, some buggy), for scaling runs."""

from __future__ import annotations

import random
from pathlib import Path

KERAS = '''"""Experiment {i}: a {units}-class image classifier."""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

NUM_CLASSES = {units}
EPOCHS = {epochs}


def load_data(path="data/exp{i}.npz"):
    data = np.load(path)
    x, y = data["x"].astype("float32") / 255.0, data["y"]
    return x, keras.utils.to_categorical(y, NUM_CLASSES)


def build_model(num_classes=NUM_CLASSES):
    model = keras.Sequential([
        layers.Input(shape=(32, 32, 3)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dropout({dropout}),
        layers.Dense(num_classes, activation="{activation}"),
    ])
    model.compile(optimizer="adam", loss="{loss}", metrics=["accuracy"])
    return model


if __name__ == "__main__":
    x_train, y_train = load_data()
    model = build_model()
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, validation_split=0.1)
    model.save("exp{i}.keras")
'''

TORCH = '''"""Experiment {i}: a small MLP on tabular features."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, in_features=64, hidden={hidden}, num_classes={units}):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout({dropout})

    def forward(self, x):
        x = self.dropout(F.relu(self.fc1(x)))
        return {head}


def train(model, loader, epochs={epochs}):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
    return model


if __name__ == "__main__":
    x = torch.randn(512, 64)
    y = torch.randint(0, {units}, (512,))
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    train(Net(), loader)
'''


def script(i: int, rng: random.Random) -> str:
    units = rng.choice([2, 5, 10, 100])
    common = dict(i=i, units=units, epochs=rng.randint(3, 30), dropout=rng.choice([0.1, 0.3, 0.5]))
    if i % 2:
        activation, loss = rng.choice([("softmax", "categorical_crossentropy"), ("sigmoid", "categorical_crossentropy"),
                                       ("softmax", "sparse_categorical_crossentropy")])
        return KERAS.format(activation=activation, loss=loss, **common)
    head = rng.choice(["self.fc2(x)", "F.softmax(self.fc2(x), dim=1)"])
    return TORCH.format(hidden=rng.choice([64, 128, 256]), head=head, **common)


def generate_tree(root: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    for i in range(n):
        folder = root / f"group{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"exp{i:05d}.py").write_text(script(i, rng))
    return root
