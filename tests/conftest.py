import os
import random
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402  (most test modules use it; imported here so its state is saved)
from hypothesis import settings  # noqa: E402

from cnnbook import seeding  # noqa: E402

# Example counts sized for a 2-core CI machine; deadline off: the first call of a
# framework op can take a second to warm up. Under CI the examples are derandomized (drawn
# from a fixed seed), so a red run is reproduced by running the same commit again.
settings.register_profile("cnnbook", max_examples=60, deadline=None, print_blob=True)
settings.register_profile("ci", settings.get_profile("cnnbook"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "cnnbook")


@pytest.fixture(autouse=True)
def restore_global_state():
    """Undo what a test's seed_everything() changed: seeds, generators, threads, modes.

    Without this, a test that seeds (and switches PyTorch to deterministic algorithms, one
    thread) changes what every later test in the process runs with.
    """
    saved = (random.getstate(), np.random.get_state(), seeding._current, seeding._generator,
             os.environ.get("PYTHONHASHSEED"))
    torch_saved = (torch.get_rng_state(), torch.are_deterministic_algorithms_enabled(),
                   torch.get_num_threads())
    tf_config = _tf_config()
    tf_deterministic = tf_config.is_op_determinism_enabled() if tf_config else None
    yield
    random.setstate(saved[0])
    np.random.set_state(saved[1])
    seeding._current, seeding._generator = saved[2], saved[3]
    if saved[4] is None:
        os.environ.pop("PYTHONHASHSEED", None)
    else:
        os.environ["PYTHONHASHSEED"] = saved[4]
    torch.set_rng_state(torch_saved[0])
    torch.use_deterministic_algorithms(torch_saved[1])
    torch.set_num_threads(torch_saved[2])
    tf_config = _tf_config()
    if tf_config is not None and not tf_deterministic and tf_config.is_op_determinism_enabled():
        tf_config.disable_op_determinism()


def _tf_config():
    """TensorFlow's config module if TensorFlow is already imported (never imports it)."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.framework import config  # has disable_op_determinism

    return config
