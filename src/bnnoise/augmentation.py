"""The standard CIFAR data augmentation, for a whole batch at once.

Random crop after 4-pixel zero padding and random horizontal flip, as in He et al. (2016,
"Deep residual learning for image recognition", section 4.2), done with index arithmetic on the
uint8 batch: no per-image Python work and no data-loader workers.
"""

from __future__ import annotations

import torch
from torch import nn


def augment(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (after zero padding by ``pad``) and random horizontal flip of a whole batch.

    Works on any dtype; ``x`` has shape (B, C, H, W). One random offset pair and one flip bit per
    image, all drawn from ``generator``.
    """
    b, c, h, w = x.shape
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    flip = torch.rand(b, generator=generator) < 0.5
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = dx[:, None] + torch.arange(w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :]
    return padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None],
                  rows, cols]
