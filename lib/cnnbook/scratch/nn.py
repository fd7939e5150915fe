"""Layers that learn, in NumPy: ``forward``, ``backward`` and parameters with gradients.

The names and arguments are ``torch.nn``'s, so that a model written here reads like its
PyTorch twin and can take its weights (``load_state_dict`` with PyTorch's keys). Each layer is
a thin object around the chapter's functions: ``forward(x)`` keeps what ``backward`` needs
(the input, a dropout mask), ``backward(dy)`` returns dx and *adds* each parameter's gradient
to ``param.grad`` (as ``loss.backward()`` does), so ``zero_grad`` comes before each step.

Parameters start as PyTorch's do: uniform in +-1/sqrt(fan_in) (``nn.Conv2d``'s and
``nn.Linear``'s default), drawn from the library's seeded generator, in float32.
"""

from __future__ import annotations

import numpy as np

from cnnbook import seeding
from cnnbook.scratch import conv, layers, norm, pool


class Parameter:
    """A learnable array and the gradient accumulated into it (same shape and dtype)."""

    __slots__ = ("data", "grad")

    def __init__(self, data: np.ndarray):
        self.data = data
        self.grad = np.zeros_like(data)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: ``__call__`` runs ``forward``; ``training`` switches Dropout and BatchNorm."""

    training = True

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, input_grad: bool = True):
        """dx from dy, adding each parameter's gradient to its ``grad``. ``input_grad=False``
        says nothing needs dx (the model's input, as a tensor without ``requires_grad`` in
        PyTorch): a layer may then skip computing it and return None."""
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray | Parameter]:
        """This layer's own parameters and buffers by PyTorch's names (weight, bias, ...)."""
        return {}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: v.data if isinstance(v, Parameter) else v for k, v in self.state().items()}

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [(k, v) for k, v in self.state().items() if isinstance(v, Parameter)]

    def parameters(self) -> list[Parameter]:
        return [v for _, v in self.named_parameters()]

    def load_state_dict(self, arrays: dict) -> None:
        """Copy arrays (NumPy, or anything ``np.asarray`` takes) into the parameters and
        buffers, keeping their dtype; every key must match, as PyTorch's strict loading."""
        own = self.state()
        arrays = {k: v for k, v in arrays.items() if not k.endswith("num_batches_tracked")}
        if set(arrays) != set(own):
            raise ValueError(f"state keys differ: missing {sorted(set(own) - set(arrays))}, "
                             f"unexpected {sorted(set(arrays) - set(own))}")
        for key, value in arrays.items():
            target = own[key].data if isinstance(own[key], Parameter) else own[key]
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"{key}: expected shape {target.shape}, got {value.shape}")
            target[...] = value

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad[...] = 0

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def astype(self, dtype) -> Module:
        """Cast every parameter, gradient and buffer (float64 for gradient checks)."""
        for key, value in self.state().items():
            if isinstance(value, Parameter):
                value.data, value.grad = value.data.astype(dtype), value.grad.astype(dtype)
            else:
                setattr(self, key, value.astype(dtype))
        return self

    def _input(self):
        if getattr(self, "_x", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._x


def _uniform(shape, fan_in):
    bound = 1 / np.sqrt(fan_in)
    return Parameter(seeding.generator().uniform(-bound, bound, shape).astype(np.float32))


class Conv2d(Module):
    """``nn.Conv2d``: x (N, C, H, W) -> (N, K, OH, OW); weight (K, C/groups, FH, FW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True):
        fh, fw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels {in_channels} and out_channels {out_channels} must "
                             f"both be divisible by groups {groups}")
        fan_in = in_channels // groups * fh * fw
        self.weight = _uniform((out_channels, in_channels // groups, fh, fw), fan_in)
        self.bias = _uniform((out_channels,), fan_in) if bias else None
        self.args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    def state(self):
        return {"weight": self.weight} | ({"bias": self.bias} if self.bias else {})

    def forward(self, x):
        self._x = x
        return conv.conv2d(x, self.weight.data, self.bias.data if self.bias else None,
                           **self.args)

    def backward(self, dy, input_grad=True):
        dx, dw, db = conv.conv2d_backward(dy, self._input(), self.weight.data, **self.args,
                                          input_grad=input_grad)
        self.weight.grad += dw
        if self.bias:
            self.bias.grad += db
        return dx


class Linear(Module):
    """``nn.Linear``: x (N, in_features) -> (N, out_features); weight (out, in)."""

    def __init__(self, in_features, out_features, bias=True):
        self.weight = _uniform((out_features, in_features), in_features)
        self.bias = _uniform((out_features,), in_features) if bias else None

    def state(self):
        return {"weight": self.weight} | ({"bias": self.bias} if self.bias else {})

    def forward(self, x):
        self._x = x
        return layers.linear(x, self.weight.data, self.bias.data if self.bias else None)

    def backward(self, dy, input_grad=True):
        dx, dw, db = layers.linear_backward(dy, self._input(), self.weight.data)
        self.weight.grad += dw
        if self.bias:
            self.bias.grad += db
        return dx


class _Elementwise(Module):
    """An activation f applied to every value: backward multiplies dy by f'(x)."""

    function = derivative = None  # set by each subclass

    def forward(self, x):
        self._x = x
        return type(self).function(x)

    def backward(self, dy, input_grad=True):
        return dy * type(self).derivative(self._input())


class ReLU(_Elementwise):
    function, derivative = staticmethod(layers.relu), staticmethod(layers.relu_grad)


class Sigmoid(_Elementwise):
    function, derivative = staticmethod(layers.sigmoid), staticmethod(layers.sigmoid_grad)


class Tanh(_Elementwise):
    function, derivative = staticmethod(layers.tanh), staticmethod(layers.tanh_grad)


class _Pool(Module):
    """A pooling layer: the chapter's function forward, its backward function backward,
    both called with the layer's arguments."""

    function = gradient = None  # set by each subclass

    def forward(self, x):
        self._x = x
        return type(self).function(x, **self.args)

    def backward(self, dy, input_grad=True):
        return type(self).gradient(dy, self._input(), **self.args)


class MaxPool2d(_Pool):
    """``nn.MaxPool2d``; backward routes each gradient to its window's maximum."""

    function, gradient = staticmethod(pool.max_pool2d), staticmethod(pool.max_pool2d_backward)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        self.args = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                         ceil_mode=ceil_mode)


class AvgPool2d(_Pool):
    """``nn.AvgPool2d``; backward spreads each gradient evenly over its window."""

    function, gradient = staticmethod(pool.avg_pool2d), staticmethod(pool.avg_pool2d_backward)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        self.args = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad)


class Flatten(Module):
    """``nn.Flatten``: (N, ...) -> (N, product of the rest); backward restores the shape."""

    def forward(self, x):
        self._x = x
        return layers.flatten(x)

    def backward(self, dy, input_grad=True):
        return dy.reshape(self._input().shape)


class Dropout(Module):
    """``nn.Dropout``: in training, zero each value with probability p and scale the rest by
    1/(1-p); the same mask multiplies the gradient. Identity in evaluation."""

    def __init__(self, p=0.5):
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        # The mask is dropout applied to ones: 0 or 1/(1-p), the layer's own rule.
        self._mask = (layers.dropout(np.ones_like(x), self.p) if self.training
                      else np.ones_like(x))
        self._x = x
        return x * self._mask

    def backward(self, dy, input_grad=True):
        self._input()
        return dy * self._mask


class BatchNorm2d(Module):
    """``nn.BatchNorm2d``: per-channel normalisation with learned scale and shift, running
    statistics updated in training (PyTorch's momentum) and used in evaluation."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.weight = Parameter(np.ones(num_features, dtype=np.float32))
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        self.running_mean = np.zeros(num_features, dtype=np.float32)
        self.running_var = np.ones(num_features, dtype=np.float32)
        self.eps, self.momentum = eps, momentum

    def state(self):
        return {"weight": self.weight, "bias": self.bias, "running_mean": self.running_mean,
                "running_var": self.running_var}

    def forward(self, x):
        self._x = x
        return norm.batch_norm2d(x, self.weight.data, self.bias.data, self.running_mean,
                                 self.running_var, self.training, self.momentum, self.eps)

    def backward(self, dy, input_grad=True):
        if not self.training:
            raise RuntimeError("BatchNorm2d.backward is the training-mode gradient (batch "
                               "statistics); call it after a forward in training mode")
        dx, dgamma, dbeta = norm.batch_norm2d_backward(dy, self._input(), self.weight.data,
                                                       self.eps)
        self.weight.grad += dgamma
        self.bias.grad += dbeta
        return dx


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse, each passing dx to the one
    before: the chain rule, one layer at a time. Keys are PyTorch's: ``"0.weight"``, ..."""

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"layer {i} is a {type(m).__name__}, not a scratch Module")
        self.layers = list(modules)

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def backward(self, dy, input_grad=True):
        for i in reversed(range(len(self.layers))):
            dy = self.layers[i].backward(dy, input_grad=input_grad or i > 0)
        return dy

    def state(self):
        return {f"{i}.{k}": v for i, m in enumerate(self.layers) for k, v in m.state().items()}

    def train(self, mode: bool = True):
        self.training = mode
        for m in self.layers:
            m.train(mode)
        return self

    def astype(self, dtype):
        for m in self.layers:
            m.astype(dtype)
        return self
