"""User trainers for the tests: a good one, and ones that misbehave."""

import time

import numpy as np


def good(X, y, feature_names, seed=0):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed).fit(X, y)


def worse(X, y, feature_names, seed=0):
    """Learns the opposite labels: a deliberately bad model."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed).fit(X, 1 - y)


def raises(X, y, feature_names):
    raise RuntimeError("boom in user code")


def hangs(X, y, feature_names):
    time.sleep(3600)


def garbage(X, y, feature_names):
    return {"not": "a model"}


def garbage_bytes(X, y, feature_names):
    return b"\x00\x01 definitely not onnx"


def hog(X, y, feature_names):
    blocks = []
    while True:
        blocks.append(np.ones(64 * 1024 * 1024, dtype=np.uint8))
