"""Run profiles: one small table of settings per notebook and profile; each notebook's entry in
``catalogue.py`` points to its table.

smoke: CI and tests on a 2-core CPU, well under a minute per notebook, real data subsets.
cpu:   a laptop without a GPU, at most about 10 minutes per notebook, the course's own numbers.
full:  a GPU, the course's reference numbers.

``None`` for a limit means the whole split. The measurements behind each size are in
docs/reference-results.md ("Why the settings are what they are"); a comment here gives the reason.
"""

from __future__ import annotations

PROFILES = ("smoke", "cpu", "full")

_MNIST_RECIPE = dict(lr=0.01, momentum=0.5, n_hidden=8, n_feature=6)  # the course's SGD and its two networks
MNIST = {  # 01, 02
    # All 60,000 digits at every profile: on fewer, the FC network's accuracy swings by tens of points.
    "smoke": dict(epochs=1, batch_size=64, train_limit=None, test_limit=None, **_MNIST_RECIPE),
    "cpu": dict(epochs=1, batch_size=64, train_limit=None, test_limit=None, **_MNIST_RECIPE),
    "full": dict(epochs=1, batch_size=64, train_limit=None, test_limit=None, **_MNIST_RECIPE),
}

# 03, 04, 06, 07, 08: CIFAR-10 images per validation or test batch. It sets the speed and memory of an
# evaluation, never its result; the full dry run lowers it to a few images.
_EVAL = dict(eval_batch_size=1000)
# 03: Net and ImprovedNet train on the same images with Adam 1e-3; train_limit counts the
# training images *before* val_fraction of them (class-balanced) become the validation split.
# ImprovedNet at width 16: faster than 32 on a CPU and still clearly ahead of Net; one width at
# every profile keeps the printed parameter count fixed.
_CIFAR_CNN = dict(lr=1e-3, improved_width=16, dropout=0.3, val_fraction=0.1, **_EVAL)
# 04: VGG with BatchNorm, SGD + Nesterov momentum + weight decay under a one-cycle schedule.
# Smoke and cpu train a narrowed VGG11 so that a CPU finishes; full trains the real VGG16 for 30
# epochs at peak lr 0.1 (batch 256), the usual one-cycle recipe for VGG16-BN on CIFAR-10.
_CIFAR_VGG = dict(momentum=0.9, weight_decay=5e-4, val_fraction=0.1, **_EVAL)

# 06: one learning rate per optimizer (plain SGD and momentum share one, so that only the momentum
# differs), the two that fail on purpose (SGD with momentum: 10 explodes, 1e-4 barely moves), the
# peak rate of the schedules, and the regularisers of the overfitting runs (AdamW). The decay is
# large because those runs are short: AdamW shrinks the weights by lr * decay a step.
_OPTIM = dict(
    optimizer_lrs={"SGD": 0.02, "momentum": 0.02, "RMSprop": 1e-3, "Adam": 1e-3},
    lr_too_large=10.0,
    lr_too_small=1e-4,
    schedule_lr=0.05,
    weight_decay=2.0,
    dropout=0.5,
    **_EVAL,
)

# 08: every model trains with Adam at lr, 128 images (or sequences) a step; the reversal task's
# sequences are 8 tokens from a vocabulary of 10 at every profile.
_ATTENTION = dict(lr=1e-3, batch_size=128, val_fraction=0.1, reverse_length=8, reverse_vocab=10, **_EVAL)

# 07: notebook 04's recipe (SGD, Nesterov momentum, weight decay, one-cycle) for every network.
_RESNET_RECIPE = _CIFAR_VGG

CIFAR_CNN = {  # 03
    "smoke": dict(epochs=2, batch_size=64, train_limit=10_000, test_limit=2_000, **_CIFAR_CNN),
    # cpu: the course's recipe on all 50,000 training images (45,000 + 5,000 for validation).
    "cpu": dict(epochs=10, batch_size=64, train_limit=None, test_limit=None, **_CIFAR_CNN),
    "full": dict(epochs=10, batch_size=64, train_limit=None, test_limit=None, **_CIFAR_CNN),
}

CIFAR_VGG = {  # 04
    "smoke": dict(
        epochs=2,
        batch_size=128,
        train_limit=4_000,
        test_limit=1_000,
        vgg_cfg="VGG11",
        vgg_width=0.25,
        lr=0.05,
        bn_images=1_000,
        bn_epochs=1,
        **_CIFAR_VGG,
    ),
    # cpu: the narrow VGG11 on all training images, as many epochs as fit the 10-minute budget.
    # bn_*: the BatchNorm comparison's three short runs, on a class-balanced part of the training split.
    "cpu": dict(
        epochs=8,
        batch_size=128,
        train_limit=None,
        test_limit=None,
        vgg_cfg="VGG11",
        vgg_width=0.25,
        lr=0.1,
        bn_images=5_000,
        bn_epochs=2,
        **_CIFAR_VGG,
    ),
    "full": dict(
        epochs=30,
        batch_size=256,
        train_limit=None,
        test_limit=None,
        vgg_cfg="VGG16",
        vgg_width=1.0,
        lr=0.1,
        bn_images=10_000,
        bn_epochs=3,
        **_CIFAR_VGG,
    ),
}

# 05: VGG16 from scratch on the clean 70/15/15 split of the 1,194 distinct images; test_limit
# caps the validation and the test split alike. VGG16 (134M parameters) costs seconds an optimizer
# step on a CPU even at 32x32, so smoke is a few steps on a balanced subset: it starts to learn but
# stays near chance. full: the course's 224x224 on a GPU.
COFFEE = {  # 05
    "smoke": dict(
        epochs=2,
        batch_size=16,
        train_limit=160,
        test_limit=100,
        image_size=32,
        lr=1e-4,
        checkpoint_dir=None,
        small_epochs=4,
        timed_batch_sizes=(1, 8),
        timing_steps=1,
    ),
    # cpu: 32x32 keeps what tells roast levels apart (colour) and fits the 10-minute budget; 48x48 did not.
    "cpu": dict(
        epochs=10,
        batch_size=32,
        train_limit=None,
        test_limit=None,
        image_size=32,
        lr=1e-4,
        checkpoint_dir=None,
        small_epochs=40,
        timed_batch_sizes=(1, 8, 32),
        timing_steps=2,
    ),
    "full": dict(
        epochs=30,
        batch_size=32,
        train_limit=None,
        test_limit=None,
        image_size=224,
        lr=1e-4,
        checkpoint_dir=None,
        small_epochs=40,
        timed_batch_sizes=(1, 8, 32, 64),
        timing_steps=5,
    ),
}

# 06: the source's optimizer demo net (with ReLUs) in many short trainings on one budget: at smoke
# on a narrowed net (width 8), small subsets and batch 16; cpu trains the source's own width.
OPTIMIZERS = {  # 06
    "smoke": dict(
        epochs=3,
        batch_size=16,
        train_limit=1_500,
        test_limit=1_000,
        val_fraction=0.2,
        width=8,
        overfit_size=160,
        overfit_epochs=20,
        overfit_lr=3e-3,
        stop_epochs=30,
        final_epochs=3,
        patience=3,
        timing_steps=5,
        **_OPTIM,
    ),
    # cpu: 7,000 images (6,300 train, 700 validation), what fits the 10-minute budget with every run.
    "cpu": dict(
        epochs=3,
        batch_size=64,
        train_limit=7_000,
        test_limit=None,
        val_fraction=0.1,
        width=32,
        overfit_size=800,
        overfit_epochs=15,
        overfit_lr=2e-3,
        stop_epochs=40,
        final_epochs=8,
        patience=5,
        timing_steps=10,
        **_OPTIM,
    ),
    "full": dict(
        epochs=10,
        batch_size=64,
        train_limit=None,
        test_limit=None,
        val_fraction=0.1,
        width=32,
        overfit_size=2_000,
        overfit_epochs=40,
        overfit_lr=1e-3,
        stop_epochs=100,
        final_epochs=40,
        patience=5,
        timing_steps=50,
        **_OPTIM,
    ),
}

# 07: four CIFAR ResNets (plain and residual, shallow and deep) trained identically with notebook
# 04's recipe; no augmentation, since the comparison is about fitting the training images.
RESNETS = {  # 07
    # smoke: 2,700 training images, 3 epochs: the fewest at which degradation shows at every seed.
    "smoke": dict(
        epochs=3,
        batch_size=64,
        train_limit=3_000,
        test_limit=1_000,
        width=8,
        shallow_depth=8,
        deep_depth=20,
        lr=0.05,
        resume_images=512,
        **_RESNET_RECIPE,
    ),
    # cpu: 13,500 training images (and 1,500 for validation) for 5 epochs: the four networks fit the budget.
    "cpu": dict(
        epochs=5,
        batch_size=128,
        train_limit=15_000,
        test_limit=None,
        width=8,
        shallow_depth=8,
        deep_depth=20,
        lr=0.1,
        resume_images=2_000,
        **_RESNET_RECIPE,
    ),
    # full: He et al.'s widths, ResNet-20 against ResNet-56 and their plain twins.
    "full": dict(
        epochs=30,
        batch_size=128,
        train_limit=None,
        test_limit=None,
        width=16,
        shallow_depth=20,
        deep_depth=56,
        lr=0.1,
        resume_images=5_000,
        **_RESNET_RECIPE,
    ),
}

# 08: every model trains with Adam at lr (the reversal task at 3x lr). reverse_steps: at cpu's 1,000
# learned positions solve the reversal task at every seed. vit_images_seen is the same for both
# shares, so the small share trains for more epochs.
ATTENTION = {  # 08
    "smoke": dict(
        epochs=1,
        rows_hidden=64,
        train_limit=10_000,
        vit_train_limit=2_000,
        vit_small_images=400,
        vit_images_seen=3_600,
        test_limit=1_000,
        reverse_steps=300,
        **_ATTENTION,
    ),
    "cpu": dict(
        epochs=3,
        rows_hidden=64,
        train_limit=None,
        vit_train_limit=25_000,
        vit_small_images=2_500,
        vit_images_seen=67_500,
        test_limit=None,
        reverse_steps=1_000,
        **_ATTENTION,
    ),
    # full: all 45,000 training images as the large share, 10 epochs of it (90 of the small share).
    "full": dict(
        epochs=10,
        rows_hidden=128,
        train_limit=None,
        vit_train_limit=None,
        vit_small_images=5_000,
        vit_images_seen=450_000,
        test_limit=None,
        reverse_steps=3_000,
        **_ATTENTION,
    ),
}


def __getattr__(name: str):
    """``NOTEBOOK_PROFILES``: every notebook's table by its stem, read from the catalogue's entries
    (notebook 05 reads its ``full`` settings from it)."""
    if name == "NOTEBOOK_PROFILES":
        from .catalogue import CATALOGUE

        return {nb.stem: nb.profiles for nb in CATALOGUE}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
