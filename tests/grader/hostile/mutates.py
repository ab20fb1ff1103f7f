"""`dL_dW` changes its arguments in place; `forward` changes the params list."""


def dL_dW(dL_dz, a_prev):
    dL_dz *= 2.0
    return dL_dz @ a_prev.T / 2.0


def forward(params, X):
    params[0] = (params[0][0] * 0.0, params[0][1])
    return X
