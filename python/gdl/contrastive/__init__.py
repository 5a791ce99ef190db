"""Self-supervised and contrastive learning (chapter 16): labels made from the data itself.

- ``gdl.contrastive.encoder``: a small strided CNN encoder, SimCLR's projection head, ``embed``.
- ``gdl.contrastive.views``: random views of an image (crop, rotation, noise, hidden patch).
- ``gdl.contrastive.simclr``: ``SimCLRTrainer``, NT-Xent over two views of every image.
- ``gdl.contrastive.evaluate``: the linear probe, cosine k-nearest neighbours, PCA, the plot.
- ``gdl.contrastive.pretext``: a masked-patch pretext task (fill in a hidden square).

The losses themselves are layers of ``gdl.nn``: ``NTXentLoss``, ``TripletMarginLoss``,
``ContrastiveLoss``.

>>> from gdl.contrastive import SimCLR, SimCLRTrainer, embed, linear_probe
>>> model = SimCLR()
>>> trainer = SimCLRTrainer(model, total_steps=10 * (len(images) // 256))
>>> for epoch in range(10):
...     trainer.train_epoch(images, epoch)                      # no labels
>>> linear_probe(embed(model.encoder, images), labels,
...              embed(model.encoder, test_images), test_labels)["test_accuracy"]
"""
from gdl.contrastive.encoder import SimCLR, build_encoder, build_projection_head, embed
from gdl.contrastive.evaluate import knn_accuracy, linear_probe, pca_2d, plot_embeddings
from gdl.contrastive.simclr import SimCLRTrainer
from gdl.contrastive.views import ViewConfig, make_views

__all__ = [
    "SimCLR", "SimCLRTrainer", "ViewConfig", "build_encoder", "build_projection_head", "embed",
    "knn_accuracy", "linear_probe", "make_views", "pca_2d", "plot_embeddings",
]
