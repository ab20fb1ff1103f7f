"""The assignment: implement the notes' formulas. Each function is graded on its own.

Shapes follow the notes: columns are examples. X is (n_0, m), Y is one-hot (n_L, m),
W_l is (n_l, n_{l-1}), b_l is (n_l, 1); `params` is a list of (W_l, b_l), l = 1..L.
Inputs are float64 numpy arrays. Do not modify your arguments. Check your work with

    backprop-check template.py
"""



def relu(z):
    """ReLU(z) = max(0, z), elementwise. Returns the shape of z."""
    raise NotImplementedError


def relu_mask(z):
    """∂a_l/∂z_l = 1_{R+*}(z): 1.0 where z > 0, else 0.0 (0.0 at z == 0). Shape of z."""
    raise NotImplementedError


def softmax(a):
    """softmax(a)_i = e^{a_i} / Σ_j e^{a_j}, on each column of a (n, m). Shape of a."""
    raise NotImplementedError


def decide(a):
    """The decision S(a): 1.0 at every maximum of each column of a, 0.0 elsewhere."""
    raise NotImplementedError


def loss(y_hat, y):
    """L = -(1/m) Σ_k [y_kᵀ log ŷ_k + (1 - y_k)ᵀ log(1 - ŷ_k)], a scalar."""
    raise NotImplementedError


def softmax_jacobian(y_hat):
    """J[k, i] = ∂ŷ_k/∂a_i for one column y_hat of shape (n,). Returns (n, n)."""
    raise NotImplementedError


def dL_dyhat(y_hat, y):
    """∂L/∂ŷ, the shape of ŷ: (n_L, m)."""
    raise NotImplementedError


def dL_daL(y_hat, y):
    """∂L/∂a_L for the course's loss, with ŷ = softmax(a_L). Shape (n_L, m)."""
    raise NotImplementedError


def dL_dz(dL_da, z):
    """∂L/∂z_l from ∂L/∂a_l and z_l, with a_l = relu(z_l). Shape of z."""
    raise NotImplementedError


def dL_da(W_next, dL_dz_next):
    """∂L/∂a_l = W_{l+1}ᵀ ∂L/∂z_{l+1}. Shape (n_l, m)."""
    raise NotImplementedError


def dL_dW(dL_dz, a_prev):
    """∂L/∂W_l from ∂L/∂z_l and a_{l-1} (a_0 = X). Shape of W_l: (n_l, n_{l-1})."""
    raise NotImplementedError


def dL_db(dL_dz):
    """∂L/∂b_l from ∂L/∂z_l. Shape of b_l: (n_l, 1)."""
    raise NotImplementedError


def forward(params, X):
    """ŷ: z_l = W_l a_{l-1} + b_l, a_l = relu(z_l) for l = 1..L, ŷ = softmax(a_L)."""
    raise NotImplementedError


def backward(params, X, Y):
    """[(∂L/∂W_l, ∂L/∂b_l) for l = 1..L], shaped like params."""
    raise NotImplementedError
