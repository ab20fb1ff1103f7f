"""The reference implementation of the notes' formulas, correct.

`import backprop` exposes every function of the submission contract
(`shared/contract/SUBMISSION.md`) with the contract's names and signatures, under the
notes' loss by default, so the reference can be graded like a student's file. The
formulas as the notes write them are in `backprop.as_written`; the catalog pairing the
two, with the errata, is `backprop.catalog`.
"""

from backprop._validate import LOSSES
from backprop.formulas import (
    decide,
    dL_da,
    dL_daL,
    dL_db,
    dL_dW,
    dL_dyhat,
    dL_dz,
    log_softmax,
    loss,
    loss_from_logits,
    relu,
    relu_mask,
    softmax,
    softmax_jacobian,
)
from backprop.network import (
    Cache,
    Gradients,
    backward,
    forward,
    forward_cache,
    gradients,
    network_loss,
)

__all__ = [
    "Cache",
    "Gradients",
    "backward",
    "dL_dW",
    "dL_da",
    "dL_daL",
    "dL_db",
    "dL_dyhat",
    "dL_dz",
    "decide",
    "forward",
    "forward_cache",
    "gradients",
    "log_softmax",
    "loss",
    "loss_from_logits",
    "network_loss",
    "relu",
    "relu_mask",
    "softmax",
    "softmax_jacobian",
]

#: The losses the reference implements, by the name a configuration gives them (`LOSSES`):
#: the notes' (binary cross-entropy of each softmax output) and the categorical one.
__all__ += ["LOSSES"]

#: The functions of the submission contract, in the contract's order.
CONTRACT = (
    "relu",
    "relu_mask",
    "softmax",
    "decide",
    "loss",
    "softmax_jacobian",
    "dL_dyhat",
    "dL_daL",
    "dL_dz",
    "dL_da",
    "dL_dW",
    "dL_db",
    "forward",
    "backward",
)
