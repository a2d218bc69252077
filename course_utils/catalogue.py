"""The course's notebooks, one entry each: everything the course knows about a notebook, and the
single list that the runner (``make course``), the website, the README table, ``setup`` (its
profiles) and the tests iterate over.

Adding a notebook means three things: the notebook, its entry here, and its test module (README:
"Adding a notebook"); a test fails while a notebook file has no entry or an entry has no file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import profiles
from .paths import REPO_ROOT

# Every full-profile dry run (tests/test_full_dry_run.py) keeps the profile's sizes and cuts only the
# work: seed 0, one epoch, and every pass over a loader capped at one batch. An entry's ``dry_run``
# adds its own cuts; SMALL trains (and, with SMALL_EVAL, evaluates) 4 full-size images a step.
DRY_RUN = dict(seed=0, max_steps=1, epochs=1)
SMALL = dict(batch_size=4)
SMALL_EVAL = dict(SMALL, eval_batch_size=4)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook, as ``python -m course_utils.exercises`` runs it.

    - ``runs``: label -> the papermill parameters of one whole run of the notebook;
    - ``edits``: label -> (text, replacement) pairs applied to a copy of the notebook for that run,
      the code change the exercise asks for;
    - ``seeds``: seed 0, or 0-2 where the answer says that a change helps or hurts;
    - ``profile``: ``smoke`` where smoke shows the effect, else ``cpu``.
    """

    number: int
    runs: dict
    edits: dict = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    profile: str = "cpu"


SEEDS = (0, 1, 2)
_SMOKE3 = dict(seeds=SEEDS, profile="smoke")

# 03's exercises 1 and 2: the lines a student adds right after ImprovedNet is built.
_IMPROVED = "improved = ImprovedNet(width=cfg.improved_width, dropout=cfg.dropout)\n"
_LEAKY_RELU = """from torch import nn

for block in (improved.features, improved.classifier):
    for i, layer in enumerate(block):
        if isinstance(layer, nn.ReLU):
            block[i] = nn.LeakyReLU(0.1)
"""
_NO_BATCHNORM = """from torch import nn

for i, layer in enumerate(improved.features):
    if isinstance(layer, nn.BatchNorm2d):
        improved.features[i] = nn.Identity()
"""


def _after_improved(lines: str) -> tuple[str, str]:
    return (_IMPROVED, _IMPROVED + lines)


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course.

    - ``title``: the notebook's ``# NN · title`` heading, without the number;
    - ``story``: one line for the README table and the website;
    - ``main_metric``: the key of its metrics JSON that ``make course`` shows as its result;
    - ``datasets``: the registry's names of the data it reads (``course_utils.data``);
    - ``cpu_minutes``: its wall time at the ``cpu`` profile on a 2-core CPU, rounded up, as shown to
      students (a test holds it to the published run in ``docs/verified/``);
    - ``test_module``: the test file that executes it at ``smoke`` and asserts its claims; it also
      defines ``check_full_dry_run(metrics, settings)``, what the dry run must have recorded;
    - ``profiles``: its settings per profile (``profiles.py``);
    - ``dry_run``: the parameters of its full-profile dry run beyond ``DRY_RUN``;
    - ``test_seconds``, ``dry_run_seconds``: about how long its test unit (nbval's cells and the test
      module) and its dry run take in ``make test``, for scheduling: the longest units start first;
    - ``cpu_targets``: metric -> the least a committed ``cpu`` run must reach (the course's targets);
      ``missed_targets``: metric -> the committed run's value where it fell short, a documented miss;
    - ``exercises``: what its exercises change, for ``python -m course_utils.exercises``, which
      writes the record their answers are read from (``docs/verified/exercises/``).
    """

    stem: str
    title: str
    story: str
    main_metric: str
    datasets: tuple[str, ...]
    cpu_minutes: int
    test_module: str
    profiles: dict
    dry_run: dict = field(default_factory=dict)
    test_seconds: int = 0
    dry_run_seconds: int = 0
    cpu_targets: dict = field(default_factory=dict)
    missed_targets: dict = field(default_factory=dict)
    exercises: tuple[Exercise, ...] = ()

    @property
    def number(self) -> str:
        return self.stem[:2]

    @property
    def file(self) -> str:
        return f"{self.stem}.ipynb"

    @property
    def path(self):
        return REPO_ROOT / "notebooks" / self.file


CATALOGUE: tuple[Notebook, ...] = (
    Notebook(
        stem="01_mnist_fc_vs_cnn",
        title="MNIST: a fully connected network vs a CNN with the same budget",
        story="a fully connected net and a CNN with the same budget (6,442 vs 6,422 parameters); "
        "epoch vs batch; shuffle on or off",
        main_metric="cnn_test_acc",
        datasets=("mnist",),
        cpu_minutes=2,
        test_module="tests/test_mnist_notebooks.py",
        profiles=profiles.MNIST,
        test_seconds=30,
        dry_run_seconds=8,
        exercises=(
            Exercise(1, {f"n_hidden={n}": dict(n_hidden=n) for n in (16, 32, 64, 128)}, seeds=SEEDS),
            Exercise(2, {f"batch_size={n}": dict(batch_size=n) for n in (16, 256)}, seeds=SEEDS),
            Exercise(3, {f"lr={lr}": dict(lr=lr) for lr in (0.1, 0.001)}, seeds=SEEDS),
            Exercise(4, {"epochs=2": dict(epochs=2)}, seeds=SEEDS),
            Exercise(
                5,
                {"file order": {}},
                edits={
                    "file order": (("mnist.label_sorted_loader(train_loader)", "train_loader.variant(shuffle=False)"),)
                },
                seeds=SEEDS,
            ),
        ),
    ),
    Notebook(
        stem="02_mnist_pixel_permutation",
        title="The pixel-permutation experiment",
        story="scramble the pixels: the FC net does not care, the CNN does",
        main_metric="cnn_perm_test_acc",
        datasets=("mnist",),
        cpu_minutes=1,
        test_module="tests/test_mnist_notebooks.py",
        profiles=profiles.MNIST,
        test_seconds=31,
        dry_run_seconds=6,
        exercises=(
            Exercise(1, {f"n_hidden={n}": dict(n_hidden=n) for n in (32, 64)}, seeds=SEEDS),
            Exercise(2, {f"n_feature={n}": dict(n_feature=n) for n in (12, 24)}, seeds=SEEDS),
            Exercise(
                3,
                {f"permutation {p}": {} for p in (1, 2)},
                edits={
                    f"permutation {p}": (("mnist.pixel_permutation(cfg.seed)", f"mnist.pixel_permutation({p})"),)
                    for p in (1, 2)
                },
            ),
            Exercise(4, {"epochs=2": dict(epochs=2)}, seeds=SEEDS),
        ),
    ),
    Notebook(
        stem="03_cifar10_cnn",
        title="CIFAR-10: a LeNet-style CNN, and a better one",
        story="the LeNet-style net on CIFAR-10, per-class accuracy, confusion matrix, an improved net; "
        "1x1 conv vs linear",
        main_metric="improved_test_acc",
        datasets=("cifar10",),
        cpu_minutes=4,
        test_module="tests/test_cifar_cnn_notebook.py",
        profiles=profiles.CIFAR_CNN,
        test_seconds=22,
        dry_run_seconds=9,
        dry_run=SMALL_EVAL,
        cpu_targets={"net_test_acc": 0.60, "improved_test_acc": 0.68},
        # At smoke (two epochs on 9,000 images) each change shows at every seed; at cpu each run
        # retrains both networks for minutes.
        exercises=(
            Exercise(1, {"LeakyReLU": {}}, edits={"LeakyReLU": (_after_improved(_LEAKY_RELU),)}, **_SMOKE3),
            Exercise(2, {"no BatchNorm": {}}, edits={"no BatchNorm": (_after_improved(_NO_BATCHNORM),)}, **_SMOKE3),
            Exercise(3, {"dropout=0": dict(dropout=0.0)}, **_SMOKE3),
            Exercise(4, {"improved_width=32": dict(improved_width=32)}, **_SMOKE3),
            Exercise(5, {"epochs=4": dict(epochs=4)}, **_SMOKE3),
            Exercise(6, {"val_fraction=0.2": dict(val_fraction=0.2)}, **_SMOKE3),
        ),
    ),
    Notebook(
        stem="04_cifar10_vgg",
        title="VGG on CIFAR-10: augmentation, real statistics, and a classifier on 512 features",
        story="augmentation, real mean/std, VGG with BatchNorm (why 512 features, not 2048); its twin without "
        "BatchNorm, at the same and a lower rate",
        main_metric="vgg_test_acc",
        datasets=("cifar10",),
        cpu_minutes=4,
        test_module="tests/test_cifar_vgg_notebook.py",
        profiles=profiles.CIFAR_VGG,
        test_seconds=18,
        dry_run_seconds=16,
        dry_run=SMALL_EVAL,
        cpu_targets={"vgg_test_acc": 0.80},
    ),
    Notebook(
        stem="05_coffee_beans_vgg16",
        title="Coffee beans: VGG16 from scratch, and two ways a test score misleads",
        story="VGG16 from scratch on roast levels; a leaking train/test split found and fixed; how optimistic a "
        "pick on a small test set is, and how much the leak inflates models that remember their training images",
        main_metric="test_acc",
        datasets=("coffee_beans",),
        cpu_minutes=9,
        test_module="tests/test_coffee_notebook.py",
        profiles=profiles.COFFEE,
        test_seconds=56,
        dry_run_seconds=41,
        # 4 images of each split (the 70/15/15 split itself is computed on all 1,194), its small CNN
        # for one epoch, and batch 1 alone timed
        dry_run=dict(SMALL, train_limit=4, test_limit=4, small_epochs=1, timed_batch_sizes=[1]),
        cpu_targets={"test_acc": 0.90},
    ),
    Notebook(
        stem="06_optimizers_and_regularization",
        title="Optimizers and regularisation",
        story="the source's optimizer demo measured (no activation, trained on the test split, batch 1); SGD, "
        "momentum, RMSprop, Adam on one budget; learning rates too large and too small; schedules; the "
        "train-validation gap with weight decay, dropout, augmentation; early stopping; a recipe chosen on validation",
        main_metric="test_acc",
        datasets=("cifar10",),
        cpu_minutes=7,
        test_module="tests/test_optimizers_notebook.py",
        profiles=profiles.OPTIMIZERS,
        test_seconds=38,
        dry_run_seconds=17,
        # its superposition check takes two sets of 16 images from one validation batch
        dry_run=dict(SMALL_EVAL, eval_batch_size=32, overfit_epochs=1, stop_epochs=1, final_epochs=1),
    ),
    Notebook(
        stem="07_residual_networks",
        title="Residual networks: why a shortcut lets a deeper network train",
        story="degradation measured: plain and residual nets at two depths, trained identically, and their "
        "gradients at initialisation; a BasicBlock and a CIFAR ResNet from scratch beside 04's VGG; "
        "Inception's 1x1 bottlenecks counted; saving, reloading and resuming models",
        main_metric="resnet_test_acc",
        datasets=("cifar10",),
        cpu_minutes=5,
        test_module="tests/test_resnets_notebook.py",
        profiles=profiles.RESNETS,
        test_seconds=40,
        dry_run_seconds=9,
        dry_run=SMALL_EVAL,
    ),
    Notebook(
        stem="08_attention_and_lstm",
        title="Self-attention and LSTMs, measured on the course's own images",
        story="attention by hand and in PyTorch; heads, cost, windows and positions; a convolution as attention "
        "and a small ViT against a CNN; linear attention; the LSTM's gates and an RNN against an LSTM on MNIST rows",
        main_metric="lstm_test_acc",
        datasets=("mnist", "cifar10"),
        cpu_minutes=6,
        test_module="tests/test_attention_notebook.py",
        profiles=profiles.ATTENTION,
        test_seconds=40,
        dry_run_seconds=12,
        # the reversal task trains for a number of steps, not over a loader: 10 instead of 3,000
        dry_run=dict(SMALL_EVAL, reverse_steps=10),
    ),
)

BY_STEM = {nb.stem: nb for nb in CATALOGUE}


def entry(stem: str) -> Notebook:
    """The catalogue entry of ``stem``; a KeyError that lists the catalogue for any other name."""
    if stem not in BY_STEM:
        raise KeyError(f"{stem!r} is not in course_utils/catalogue.py; its notebooks: {', '.join(BY_STEM)}")
    return BY_STEM[stem]


def readme_table() -> str:
    """The notebook table of README.md, generated (a test checks README carries exactly this)."""
    rows = ["| notebook | story | on a laptop CPU |", "| --- | --- | ---: |"]
    rows += [f"| `{nb.stem}` | {nb.story} | about {nb.cpu_minutes} min |" for nb in CATALOGUE]
    return "\n".join(rows)
