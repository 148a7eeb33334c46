"""Every torch.nn class that is not in the catalog, with the reason.

The coverage check enumerates the installed torch.nn: each Module subclass must be
in the catalog, in OUT_OF_SCOPE (will not be twinned, with a reason) or in NOT_YET
(counted and shown as not implemented). A class that appears in a new torch
release fails the check until it is placed. An entry here that is also in the
catalog is stale: the check warns, so the list stays honest.
"""

OUT_OF_SCOPE = {
    "Container": "deprecated alias kept for backward compatibility; no behaviour of its own",
    "RNNBase": "abstract base of RNN/LSTM/GRU; judged through those classes",
    "RNNCellBase": "abstract base of RNNCell/LSTMCell/GRUCell; judged through those classes",
    "DataParallel": "multi-device wrapper with no math of its own; needs several GPUs",
    "NLLLoss2d": "deprecated alias of NLLLoss (which covers K-dimensional inputs)",
}

_NOT_YET_NAMES = """
"""


NOT_YET = {name: "not yet" for name in _NOT_YET_NAMES.split()}
