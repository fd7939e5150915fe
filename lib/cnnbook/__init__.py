"""cnnbook: the library behind the CNN course book.

Importing ``cnnbook`` is cheap and framework-free: it brings NumPy only.
The framework versions live in subpackages that import their own framework:

* ``cnnbook.scratch`` -- NumPy from scratch
* ``cnnbook.torch``   -- PyTorch
* ``cnnbook.tf``      -- TensorFlow / Keras
* ``cnnbook.data``, ``cnnbook.shapes``, ``cnnbook.viz`` -- framework-free helpers
"""

from cnnbook.seeding import seed_everything

__all__ = ["seed_everything"]
__version__ = "0.1.0"
