"""Helpers for the PyTorch image-classification course: models, data, training, plots.

Where things are: ``training`` (the loop: train_one_epoch, evaluate, fit), ``inference``
(predict), ``models``, ``loaders`` and ``data`` (the registry), ``plots``, ``metrics``,
``runtime`` (device, seed, profiles), ``recipes`` and ``timing`` (what two lessons share), and
one module of recipes per lesson (``mnist``, ``cifar``, ``coffee_data`` and ``coffee_train``).
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
