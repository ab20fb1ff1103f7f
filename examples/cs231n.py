"""A correct submission in the style of CS231n: examples as rows, flat biases, integer
labels, a softmax of the logits (no ReLU before it), the categorical cross-entropy
averaged over the examples, and L2 weight decay `(reg / 2) Σ ‖W‖²` in `backward`.

Graded under examples/cs231n.toml, it must score full marks.
"""

import numpy as np

REG = 0.1  # the configuration's `l2`


def relu(z):
    return np.maximum(z, 0.0)


def relu_mask(z):
    return (z > 0).astype(float)


def softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def decide(scores):
    return (scores == scores.max(axis=1, keepdims=True)).astype(float)


def loss(probs, y):
    m = probs.shape[0]
    return -np.sum(np.log(probs[np.arange(m), y])) / m


def softmax_jacobian(p):
    return np.diag(p) - np.outer(p, p)


def dL_dyhat(probs, y):
    m = probs.shape[0]
    g = np.zeros_like(probs)
    g[np.arange(m), y] = -1.0 / probs[np.arange(m), y]
    return g / m


def dL_daL(probs, y):
    m = probs.shape[0]
    dscores = probs.copy()
    dscores[np.arange(m), y] -= 1.0
    return dscores / m


def dL_dz(dL_da, z):
    return dL_da * relu_mask(z)


def dL_da(W_next, dL_dz_next):
    return dL_dz_next @ W_next.T


def dL_dW(dL_dz, a_prev):
    return a_prev.T @ dL_dz


def dL_db(dL_dz):
    return dL_dz.sum(axis=0)


def forward(params, X):
    h = X
    for W, b in params[:-1]:
        h = relu(h @ W + b)
    W, b = params[-1]
    return softmax(h @ W + b)


def backward(params, X, y):
    hs, zs = [X], []
    for W, b in params[:-1]:
        zs.append(hs[-1] @ W + b)
        hs.append(relu(zs[-1]))
    W, b = params[-1]
    dz = dL_daL(softmax(hs[-1] @ W + b), y)
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        W, _ = params[layer]
        grads.append((dL_dW(dz, hs[layer]) + REG * W, dL_db(dz)))
        if layer > 0:
            dz = dL_dz(dL_da(W, dz), zs[layer - 1])
    return grads[::-1]
