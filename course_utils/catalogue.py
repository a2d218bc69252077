"""The course's notebooks, one entry each: the single list that the runner (``make course``), the
website, the README table and the tests iterate over.

Adding a notebook means adding its entry here (README: "Adding a notebook"); a test fails while a
notebook file has no entry or an entry has no file.
"""

from __future__ import annotations

from dataclasses import dataclass

from .paths import REPO_ROOT


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course.

    - ``title``: the notebook's ``# NN · title`` heading, without the number;
    - ``story``: one line for the README table and the website;
    - ``main_metric``: the key of its metrics JSON that ``make course`` shows as its result;
    - ``datasets``: the registry's names of the data it reads (``course_utils.data``);
    - ``cpu_minutes``: its wall time at the ``cpu`` profile on a 2-core CPU, rounded up, as shown to
      students (a test holds it to the published run in ``docs/verified/``);
    - ``test_module``: the test file that executes it at ``smoke`` and asserts its claims.
    """

    stem: str
    title: str
    story: str
    main_metric: str
    datasets: tuple[str, ...]
    cpu_minutes: int
    test_module: str

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
        cpu_minutes=1,
        test_module="tests/test_mnist_notebooks.py",
    ),
    Notebook(
        stem="02_mnist_pixel_permutation",
        title="The pixel-permutation experiment",
        story="scramble the pixels: the FC net does not care, the CNN does",
        main_metric="cnn_perm_test_acc",
        datasets=("mnist",),
        cpu_minutes=1,
        test_module="tests/test_mnist_notebooks.py",
    ),
    Notebook(
        stem="03_cifar10_cnn",
        title="CIFAR-10: a LeNet-style CNN, and a better one",
        story="the LeNet-style net on CIFAR-10, per-class accuracy, confusion matrix, an improved net; "
        "1x1 conv vs linear",
        main_metric="improved_test_acc",
        datasets=("cifar10",),
        cpu_minutes=7,
        test_module="tests/test_cifar_cnn_notebook.py",
    ),
    Notebook(
        stem="04_cifar10_vgg",
        title="VGG on CIFAR-10: augmentation, real statistics, and a classifier on 512 features",
        story="augmentation, real mean/std, VGG with BatchNorm (why 512 features, not 2048); its twin without "
        "BatchNorm, at the same and a lower rate",
        main_metric="vgg_test_acc",
        datasets=("cifar10",),
        cpu_minutes=6,
        test_module="tests/test_cifar_vgg_notebook.py",
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
    ),
    Notebook(
        stem="08_attention_and_lstm",
        title="Self-attention and LSTMs, measured on the course's own images",
        story="attention by hand and in PyTorch; heads, cost, windows and positions; a convolution as attention "
        "and a small ViT against a CNN; linear attention; the LSTM's gates and an RNN against an LSTM on MNIST rows",
        main_metric="lstm_test_acc",
        datasets=("mnist", "cifar10"),
        cpu_minutes=5,
        test_module="tests/test_attention_notebook.py",
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
