"""Run profiles: one small table of settings per notebook and profile.

smoke: CI and tests on a 2-core CPU, well under a minute per notebook, real data subsets.
cpu:   a laptop without a GPU, a few minutes per notebook, meaningful accuracy.
full:  a GPU, the course's reference numbers.

``None`` for a limit means the whole split. The sizes were chosen from measured runs
(see docs/reference-results.md): a smaller smoke subset would not carry the notebooks'
claims for every seed.
"""
from __future__ import annotations

PROFILES = ("smoke", "cpu", "full")

_MNIST = {
    # One epoch of SGD on all 60,000 digits takes seconds on a CPU, and on fewer digits the
    # FC network's accuracy swings by tens of points between seeds, so no profile shrinks it.
    "smoke": dict(epochs=1, batch_size=64, train_limit=None, test_limit=None),
    "cpu": dict(epochs=1, batch_size=64, train_limit=None, test_limit=None),
    "full": dict(epochs=1, batch_size=64, train_limit=None, test_limit=None),
}

NOTEBOOK_PROFILES: dict[str, dict[str, dict]] = {
    "01_mnist_fc_vs_cnn": _MNIST,
    "02_mnist_pixel_permutation": _MNIST,
    "03_cifar10_cnn": {
        "smoke": dict(epochs=2, batch_size=64, train_limit=10_000, test_limit=2_000),
        "cpu": dict(epochs=4, batch_size=64, train_limit=None, test_limit=None),
        "full": dict(epochs=10, batch_size=64, train_limit=None, test_limit=None),
    },
    "04_cifar10_vgg": {
        "smoke": dict(epochs=1, batch_size=128, train_limit=4_000, test_limit=1_000,
                      vgg_cfg="VGG11", vgg_width=0.25, lr=0.05),
        "cpu": dict(epochs=4, batch_size=128, train_limit=20_000, test_limit=None,
                    vgg_cfg="VGG11", vgg_width=0.5, lr=0.1),
        "full": dict(epochs=30, batch_size=256, train_limit=None, test_limit=None,
                     vgg_cfg="VGG16", vgg_width=1.0, lr=0.1),
    },
    "05_coffee_beans_vgg16": {
        "smoke": dict(epochs=1, batch_size=32, train_limit=400, test_limit=200, image_size=32, lr=1e-4),
        "cpu": dict(epochs=4, batch_size=32, train_limit=None, test_limit=None, image_size=64, lr=1e-4),
        "full": dict(epochs=30, batch_size=32, train_limit=None, test_limit=None, image_size=224, lr=1e-4),
    },
}
