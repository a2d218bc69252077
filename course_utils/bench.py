"""Benchmark: the course's fast data path against a plain per-image DataLoader loop.

    python -m course_utils.bench [--steps 300] [--rounds 3] [--device cpu] [--cases ...] [--breakdown]
                                 [--notebooks]

For each case, in one process, the same model (same initial weights) trains for the same number
of steps on the same data, after 20 untimed warm-up steps each: (a) the way course material
usually writes it (torchvision dataset, per-image transforms, DataLoader, ``loss.item()`` every
batch); (b) with ``TensorLoader`` and the loop ``fit`` runs on that device (uint8 tensors on the
device, batch-wise normalise/augment; one sync per epoch; on a GPU also mixed precision).
The two loops take turns for ``rounds`` rounds, each starting from the same initial weights,
because a shared 2-core machine can run the same loop twice as fast in one minute as in the
next: the median round of each loop is printed (images per second), their ratio b/a, and the
lowest and highest ratio of a single round. ``--breakdown`` also splits a step of each path into
data, forward, backward, optimizer and bookkeeping, to show where the time goes.
``--notebooks`` also times every notebook at the smoke profile.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms

from . import data, loaders, splits
from .models import CNN, CifarVGG, Net
from .optimizers import make_optimizer
from .runtime import pick_device, seed_everything
from .speed import precision_for
from .training import train_one_epoch

CASES = {  # name: (dataset, model factory, loss, mean, std, augment, batch size)
    "MNIST CNN": ("mnist", lambda: CNN(), F.nll_loss, data.MNIST_MEAN, data.MNIST_STD, False, 64),
    "CIFAR Net": ("cifar10", lambda: Net(), F.cross_entropy, data.CIFAR_MEAN, data.CIFAR_STD, True, 64),
    "CIFAR VGG11-BN": (
        "cifar10",
        lambda: CifarVGG("VGG11"),
        F.cross_entropy,
        data.CIFAR_MEAN,
        data.CIFAR_STD,
        True,
        128,
    ),
}


# The VGG case is left out by default: on a CPU its arithmetic, not the data path, sets the pace.
DEFAULT_CASES = ["MNIST CNN", "CIFAR Net"]


def endless(loader):
    """Batches of pass after pass over ``loader``, each pass loaded (and shuffled) anew:
    ``itertools.cycle`` would replay the first pass's saved batches without loading them."""
    while True:
        yield from loader


def plain_loop(model, loader, steps: int, loss_fn, device, warmup: int = 0) -> float:
    """The course-material loop: per-image transforms in the DataLoader, ``.item()`` each batch.
    The first ``warmup`` steps are not timed."""
    optimizer = make_optimizer("momentum", model.parameters(), lr=0.01)
    model.train()
    running_loss, seen = 0.0, 0
    batches = endless(loader)
    for inputs, labels in itertools.islice(batches, warmup):
        optimizer.zero_grad()
        loss_fn(model(inputs.to(device)), labels.to(device)).backward()
        optimizer.step()
    start = time.perf_counter()
    for inputs, labels in itertools.islice(batches, steps):
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        seen += len(labels)
    return seen / (time.perf_counter() - start)


def fast_loop(model, loader, warmup_loader, loss_fn, device) -> float:
    """The course's loop over its tensor loader, as ``fit`` runs it on ``device``
    (``train_one_epoch``, in mixed precision on a GPU); one pass over ``warmup_loader`` is not timed."""
    optimizer = make_optimizer("momentum", model.parameters(), lr=0.01)
    precision = precision_for(device)
    train_one_epoch(model, warmup_loader, optimizer, loss_fn, device, precision=precision)
    start = time.perf_counter()
    train_one_epoch(model, loader, optimizer, loss_fn, device, precision=precision)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(loader) * loader.batch_size / (time.perf_counter() - start)


def setup_case(name: str, steps: int, device: torch.device, seed: int = 0, warmup: int = 20):
    """The case's plain DataLoader and fast TensorLoader over the same ``steps`` batches of
    images, a short fast loader for warm-up, the model, its initial weights, the loss and the
    seconds the fast loader took to build."""
    dataset, make_model, loss_fn, mean, std, augment, batch = CASES[name]
    n = steps * batch
    aug = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if augment else []
    plain_ds, source = splits.torchvision_dataset(
        dataset,
        True,
        transform=transforms.Compose(aug + [transforms.ToTensor(), transforms.Normalize(mean, std)]),
        limit=n,
        seed=seed,
    )
    plain = DataLoader(plain_ds, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(seed))
    t0 = time.perf_counter()
    split = splits.load_split(dataset, True, limit=n, seed=seed)
    fast = loaders.TensorLoader(split, batch, mean, std, shuffle=True, augment=augment, device=device)
    setup_s = time.perf_counter() - t0
    warm = fast.variant(split.subset(slice(0, warmup * batch)))
    seed_everything(seed)
    model = make_model().to(device)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return dict(
        plain=plain,
        fast=fast,
        warm=warm,
        model=model,
        state=state,
        loss_fn=loss_fn,
        batch=batch,
        setup_s=setup_s,
        source=source,
    )


def run_case(name: str, steps: int, device: torch.device, seed: int = 0, warmup: int = 20, rounds: int = 3) -> dict:
    c = setup_case(name, steps, device, seed, warmup)
    model, state, loss_fn = c["model"], c["state"], c["loss_fn"]
    plain_runs, fast_runs = [], []
    for _ in range(rounds):
        model.load_state_dict(state)
        plain_runs.append(plain_loop(model, c["plain"], steps, loss_fn, device, warmup))
        model.load_state_dict(state)
        fast_runs.append(fast_loop(model, c["fast"], c["warm"], loss_fn, device))
    round_ratios = [f / p for f, p in zip(fast_runs, plain_runs)]
    plain_ips, fast_ips = statistics.median(plain_runs), statistics.median(fast_runs)
    return {
        "case": name,
        "steps": steps,
        "batch": c["batch"],
        "rounds": rounds,
        "plain_ips": plain_ips,
        "fast_ips": fast_ips,
        "ratio": fast_ips / plain_ips,
        "ratio_low": min(round_ratios),
        "ratio_high": max(round_ratios),
        "fast_setup_s": c["setup_s"],
        "data_source": c["source"],
    }


PHASES = ("data", "forward", "backward", "optimizer", "bookkeeping")


def step_phases(model, batches, steps: int, loss_fn, device) -> dict:
    """Milliseconds per step in each phase of ``train_one_epoch``'s step, over ``steps`` batches
    drawn from the iterator ``batches``: data (the next batch, on the device), forward (with the
    loss), backward, optimizer (step and zero_grad), bookkeeping (the ``.item()`` reads). In
    float32, with a synchronisation after each phase on a GPU, so only its CPU figures are
    those of ``fit``."""
    optimizer = make_optimizer("momentum", model.parameters(), lr=0.01)
    model.train()
    seconds = dict.fromkeys(PHASES, 0.0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def lap(phase, since):
        sync()
        now = time.perf_counter()
        seconds[phase] += now - since
        return now

    optimizer.zero_grad()
    t = time.perf_counter()
    for _ in range(steps):
        x, y = next(batches)
        x, y = x.to(device), y.to(device)
        t = lap("data", t)
        out = model(x)
        loss = loss_fn(out, y)
        t = lap("forward", t)
        loss.backward()
        t = lap("backward", t)
        optimizer.step()
        optimizer.zero_grad()  # train_one_epoch clears before the forward pass: the same work
        t = lap("optimizer", t)
        loss.item(), (out.argmax(1) == y).sum().item()
        t = lap("bookkeeping", t)
    return {phase: s / steps * 1e3 for phase, s in seconds.items()}


def breakdown_case(name: str, steps: int, device: torch.device, seed: int = 0, warmup: int = 20, rounds: int = 3):
    """Per-step milliseconds of each phase for the plain and the fast data path: the median of
    ``rounds`` rounds of ``steps`` steps each, the two taking turns from the same weights."""
    c = setup_case(name, steps, device, seed, warmup)
    model, state, loss_fn = c["model"], c["state"], c["loss_fn"]
    runs = {"plain": [], "fast": []}
    for _ in range(rounds):
        for path in runs:
            model.load_state_dict(state)
            batches = endless(c[path])
            step_phases(model, batches, warmup, loss_fn, device)
            runs[path].append(step_phases(model, batches, steps, loss_fn, device))
    return {path: {p: statistics.median(r[p] for r in rs) for p in PHASES} for path, rs in runs.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="timed optimiser steps per loop (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="turns each loop takes; the median counts (default 3)")
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--cases",
        nargs="*",
        default=DEFAULT_CASES,
        choices=list(CASES),
        help=f"default: {', '.join(DEFAULT_CASES)} (under 3 minutes on 2 CPU cores); "
        "the VGG case takes over 10 minutes on a CPU at 300 steps: ask for it, with fewer --steps",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time each phase of a step (data, forward, backward, optimizer, bookkeeping) for both paths",
    )
    parser.add_argument("--notebooks", action="store_true", help="also time each notebook at the smoke profile")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        parser.error(f"--steps and --rounds must be at least 1, got --steps {args.steps} --rounds {args.rounds}")
    # The loops' progress bars would print between the rows of the table.
    os.environ["COURSE_PROGRESS"] = "0"
    device = pick_device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{args.rounds} rounds of {args.steps} timed steps per loop; img/s is the median round")
    print(
        f"{'case':<16}{'batch':>6}{'plain img/s':>13}{'fast img/s':>12}{'ratio':>7}{'round ratios':>14}"
        f"{'fast setup s':>14}"
    )
    start = time.perf_counter()
    for name in args.cases:
        r = run_case(name, args.steps, device, rounds=args.rounds)
        print(
            f"{r['case']:<16}{r['batch']:>6}{r['plain_ips']:>13.0f}{r['fast_ips']:>12.0f}{r['ratio']:>7.1f}"
            f"{r['ratio_low']:>8.1f}-{r['ratio_high']:<5.1f}{r['fast_setup_s']:>14.1f}",
            flush=True,
        )
    if args.breakdown:
        print(f"\nmilliseconds per step, median of {args.rounds} rounds of {args.steps} steps")
        print(f"{'case':<16}{'path':<7}" + "".join(f"{p:>12}" for p in PHASES) + f"{'total':>9}")
        for name in args.cases:
            for path, ms in breakdown_case(name, args.steps, device, rounds=args.rounds).items():
                cells = "".join(f"{ms[p]:>12.3f}" for p in PHASES)
                print(f"{name:<16}{path:<7}{cells}{sum(ms.values()):>9.3f}", flush=True)
    print(f"benchmark wall time {time.perf_counter() - start:.1f} s")
    if args.notebooks:
        from .course import execute, notebooks, results_table

        with tempfile.TemporaryDirectory() as out:
            rows = [execute(nb, out, profile="smoke") for nb in notebooks()]
        print("\nnotebooks at the smoke profile")
        print(results_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
