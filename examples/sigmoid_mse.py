"""A correct submission for a sigmoid network with the squared error: sigmoid hidden and
output layers, `L = ½ Σ_k ‖ŷ_k - y_k‖²` summed over the examples (no 1/m), examples as
columns, biases `(n, 1)`, one-hot targets. The contract's `relu` and `relu_mask` are
the hidden activation and its derivative, renamed by the configuration.

Graded under examples/sigmoid_mse.toml, it must score full marks.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def output(a):
    return sigmoid(a)


def decide(a):
    return (a == a.max(axis=0, keepdims=True)).astype(float)


def cost(y_hat, y):
    return 0.5 * np.sum((y_hat - y) ** 2)


def output_jacobian(y_hat):
    return np.diag(y_hat * (1 - y_hat))


def dL_dyhat(y_hat, y):
    return y_hat - y


def dL_daL(y_hat, y):
    return (y_hat - y) * y_hat * (1 - y_hat)


def dL_dz(dL_da, z):
    return dL_da * sigmoid_prime(z)


def dL_da(W_next, dL_dz_next):
    return W_next.T @ dL_dz_next


def dL_dW(dL_dz, a_prev):
    return dL_dz @ a_prev.T


def dL_db(dL_dz):
    return np.sum(dL_dz, axis=1, keepdims=True)


def forward(params, X):
    a = X
    for W, b in params[:-1]:
        a = sigmoid(W @ a + b)
    W, b = params[-1]
    return sigmoid(W @ a + b)


def backward(params, X, Y):
    activations, zs = [X], []
    for W, b in params:
        zs.append(W @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    delta = dL_daL(activations[-1], Y)
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        grads.append((dL_dW(delta, activations[layer]), dL_db(delta)))
        if layer > 0:
            delta = dL_dz(dL_da(params[layer][0], delta), zs[layer - 1])
    return grads[::-1]
