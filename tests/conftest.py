import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from hypothesis import settings  # noqa: E402

# Example counts sized for a 2-core CI machine; deadline off: the first call of a
# framework op can take a second to warm up.
settings.register_profile("cnnbook", max_examples=60, deadline=None, print_blob=True)
settings.load_profile("cnnbook")
