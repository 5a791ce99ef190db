"""SimCLR (Chen et al. 2020): learn a representation from unlabelled images by contrast.

Each step takes a batch of N images, makes two random views of each (``make_views``), encodes
all 2N views and projects them, and minimizes NT-Xent: every view must pick its partner out of
the other 2N - 1 views by cosine similarity. No label is used; the only supervision is "these two
views came from one image".
"""
import numpy as np

import gdl
from gdl import nn
from gdl.contrastive.views import ViewConfig, make_views


class SimCLRTrainer:
    """Trains a ``SimCLR`` model with Adam and NT-Xent, one epoch at a time.

    The learning rate follows a cosine from ``lr`` to 0 over ``total_steps`` steps (set it to
    epochs * steps per epoch). Batches and views of epoch e come from the generator seeded by
    (seed, e), so a run resumed at epoch e sees what the uninterrupted run saw.

    >>> trainer = SimCLRTrainer(SimCLR(), total_steps=epochs * (len(images) // 256))
    >>> for epoch in range(epochs): trainer.train_epoch(images, epoch)
    """

    def __init__(self, model, lr=1e-3, temperature=0.5, batch_size=256, total_steps=1000,
                 views=ViewConfig(), weight_decay=0.0, seed=0):
        if batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 (the other images are the "
                             f"negatives), got {batch_size}")
        self.model = model
        self.batch_size = batch_size
        self.views = views
        self.seed = seed
        self.criterion = nn.NTXentLoss(temperature)
        self.optimizer = gdl.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        self.schedule = gdl.optim.CosineAnnealingLR(self.optimizer, T_max=max(1, total_steps))

    def steps_per_epoch(self, n_images):
        return n_images // self.batch_size

    def train_step(self, batch_images, rng):
        """One update on a batch (N, 1, H, W); returns the NT-Xent loss."""
        n = len(batch_images)
        views = np.concatenate([make_views(batch_images, rng, self.views),
                                make_views(batch_images, rng, self.views)])
        z = self.model(views)                    # both views in one pass: one GEMM per layer
        loss = self.criterion(z[:n], z[n:])
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        return loss.item()

    def train_epoch(self, images, epoch, limit=None, on_step=None):
        """One pass over ``images`` (or its first ``limit`` shuffled images); mean loss.

        ``on_step(i, loss)`` is called after every step (a progress bar's update).
        """
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(images))[:limit]
        steps = self.steps_per_epoch(len(order))
        if steps == 0:
            raise ValueError(f"an epoch needs at least batch_size={self.batch_size} images, "
                             f"got {len(order)}")
        self.schedule.step(epoch * steps)
        total = 0.0
        for i in range(steps):
            batch = np.sort(order[i * self.batch_size:(i + 1) * self.batch_size])
            loss = self.train_step(images[batch], rng)
            total += loss
            if on_step is not None:
                on_step(i, loss)
        return total / steps
