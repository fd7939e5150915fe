"""Plots the chapters share: image grids now; animations and training curves as chapters add them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def image_grid(images, titles=None, ncols: int = 10, size: float = 1.0, cmap: str = "gray_r"):
    """Show images (N, H, W), (N, 1, H, W) or (N, H, W, 1) in a grid; returns the figure."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    elif images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W) or one-channel 4-D, got shape {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig
