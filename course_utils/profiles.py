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
    # 03: Net and ImprovedNet (width 16) train on the same images with Adam 1e-3. Smoke: on
    # 10,000 images for 2 epochs ImprovedNet beat Net by 6.6-10.6 points for seeds 0-2 (fewer images
    # shrink that margin and the claim with it). cpu: 20,000 images for 4 epochs (estimated from
    # measured images/s: under 2 minutes of training on an idle 2-core CPU). full: the course's 10 epochs.
    "03_cifar10_cnn": {
        "smoke": dict(epochs=2, batch_size=64, train_limit=10_000, test_limit=2_000),
        "cpu": dict(epochs=4, batch_size=64, train_limit=20_000, test_limit=None),
        "full": dict(epochs=10, batch_size=64, train_limit=None, test_limit=None),
    },
    # 04: VGG with BatchNorm, SGD + Nesterov + one-cycle. Smoke and cpu train a narrowed VGG11 so
    # a CPU finishes (smoke, seeds 0-2: 38-40%; cpu, seed 0: 65.1% on the JPEG copy). full trains the
    # real VGG16 for 30 epochs at peak lr 0.1 (batch 256), the usual one-cycle recipe for VGG16-BN
    # on CIFAR-10 (expected above 90%; not measured here: no GPU).
    "04_cifar10_vgg": {
        "smoke": dict(epochs=2, batch_size=128, train_limit=4_000, test_limit=1_000,
                      vgg_cfg="VGG11", vgg_width=0.25, lr=0.05),
        "cpu": dict(epochs=3, batch_size=128, train_limit=20_000, test_limit=None,
                    vgg_cfg="VGG11", vgg_width=0.25, lr=0.1),
        "full": dict(epochs=30, batch_size=256, train_limit=None, test_limit=None,
                     vgg_cfg="VGG16", vgg_width=1.0, lr=0.1),
    },
    "05_coffee_beans_vgg16": {
        # VGG16 costs ~2 s an optimizer step on 2 CPU cores even at 32x32 (134M parameters), so
        # smoke is 20 steps on a balanced subset: it starts to learn (test loss 1.36/1.17/1.33 < ln 4
        # for seeds 0-2) but stays near chance (0.25-0.30). cpu, seed 0: 0.49/0.52/0.44/0.87 test
        # accuracy after epochs 1-4 (27 min on a shared, loaded CPU). full: the course's 224x224 on a
        # GPU, not measured here. save_last=False skips fit's 1.6 GB resume state where runs are short.
        "smoke": dict(epochs=2, batch_size=16, train_limit=160, test_limit=100, image_size=32, lr=1e-4,
                      checkpoint_dir=None, save_last=False, timed_batch_sizes=(1, 8), timing_steps=1),
        "cpu": dict(epochs=4, batch_size=32, train_limit=None, test_limit=None, image_size=64, lr=1e-4,
                    checkpoint_dir=None, save_last=False, timed_batch_sizes=(1, 8, 32), timing_steps=2),
        "full": dict(epochs=30, batch_size=32, train_limit=None, test_limit=None, image_size=224, lr=1e-4,
                     checkpoint_dir=None, save_last=True, timed_batch_sizes=(1, 8, 32, 64), timing_steps=5),
    },
}
