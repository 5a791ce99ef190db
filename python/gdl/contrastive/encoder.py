"""The networks of chapter 16: a small strided CNN encoder and SimCLR's projection head."""
import numpy as np

import gdl
from gdl import nn
from gdl.nn.conv import Conv2d


def build_encoder(features=512, channels=(16, 32)):
    """A CNN from (N, 1, 28, 28) images to (N, features) representations.

    Two strided convolutions stand in for convolution + pooling (cheaper on a CPU):

        conv 5x5 stride 2 (1 -> c1) - relu - conv 3x3 stride 2 (c1 -> c2) - relu   28 -> 14 -> 7
        -> flatten (c2 * 49) -> linear -> features - relu

    >>> build_encoder()(np.zeros((2, 1, 28, 28), np.float32)).shape
    (2, 512)
    """
    c1, c2 = channels
    return nn.Sequential(Conv2d(1, c1, 5, stride=2, padding=2), nn.ReLU(),
                         Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(c2 * 7 * 7, features), nn.ReLU())


def build_projection_head(features=512, hidden=128, out=64):
    """SimCLR's head g: linear - relu - linear, from representations h to the loss's space z.

    The loss is computed on z = g(h); the representation kept afterwards is h. The head is free
    to throw away what the augmentations change (position, angle, thickness), so h keeps more.
    """
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, out))


class SimCLR(nn.Module):
    """Encoder f and projection head g: ``model(x)`` is z = g(f(x)), ``model.encoder`` is f."""

    def __init__(self, encoder=None, head=None):
        super().__init__()
        self.encoder = encoder if encoder is not None else build_encoder()
        self.head = head if head is not None else build_projection_head()

    def forward(self, x):
        return self.head(self.encoder(x))


def embed(encoder, images, batch_size=1000):
    """The encoder's representations of ``images`` (N, 1, H, W) as a float32 array (N, D),
    computed without a graph and in eval mode."""
    was_training = encoder.training
    encoder.eval()
    out = []
    with gdl.no_grad():
        for i in range(0, len(images), batch_size):
            out.append(encoder(images[i:i + batch_size]).data)
    encoder.train(was_training)
    return np.concatenate(out).astype(np.float32, copy=False)
