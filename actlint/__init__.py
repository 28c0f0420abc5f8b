"""actlint: a static analyzer for classification heads, losses and labels in deep-learning code."""

__version__ = "0.1.0"
