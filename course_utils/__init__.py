"""Helpers for the PyTorch image-classification course: models, data, training, plots.

Where things are (every module, by job; tests/test_catalogue.py checks that this list is whole):

- training: ``training`` (train_one_epoch, evaluate, fit), ``speed`` (mixed precision on a GPU),
  ``checkpoints`` (the chosen weights and the resume state), ``recipes`` (what two lessons share),
  ``inference`` (predict), ``timing`` and ``memory`` (seconds per step, memory per run);
- models: ``models``, and per lesson ``resnets`` (07), ``attention``, ``reversal``, ``recurrent`` (08);
- data: ``data`` (the registry), ``files`` (roots, image folders, checksums), ``splits`` (reading a
  dataset), ``loaders``, ``images``, ``prepare`` (``make data``);
- one module of recipes per lesson: ``mnist``, ``cifar``, ``coffee_data``, ``coffee_train``, ``optimizers``;
- notebooks: ``runtime`` (device, seed, settings), ``profiles``, ``catalogue`` (one entry per
  notebook), ``notebook`` (cell helpers), ``plots``, ``metrics``, ``paths``;
- commands: ``course`` (``make course``), ``exercises`` (the exercises' record), ``bench`` (the
  data-path benchmark).
"""

from .checkpoints import load_checkpoint
from .inference import predict, predict_image
from .metrics import confusion_matrix, notebook_metrics, per_class_accuracy, write_metrics
from .models import CNN, CifarVGG, ClassicVGG16, FC2Layer, ImprovedNet, Net, count_params, param_table
from .runtime import Settings, pick_device, resolve_profile, seed_everything, setup
from .training import History, evaluate, fit, train_one_epoch

__all__ = [
    "CNN",
    "ClassicVGG16",
    "CifarVGG",
    "FC2Layer",
    "History",
    "ImprovedNet",
    "Net",
    "Settings",
    "confusion_matrix",
    "count_params",
    "evaluate",
    "fit",
    "load_checkpoint",
    "notebook_metrics",
    "param_table",
    "per_class_accuracy",
    "pick_device",
    "predict",
    "predict_image",
    "resolve_profile",
    "seed_everything",
    "setup",
    "train_one_epoch",
    "write_metrics",
]
__version__ = "0.2.0"
