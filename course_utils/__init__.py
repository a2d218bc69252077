"""Helpers for the PyTorch image-classification course: models, data, training, plots."""
from .metrics import confusion_matrix, notebook_metrics, per_class_accuracy, write_metrics
from .models import CNN, VGG, VGG16, FC2Layer, ImprovedNet, Net, count_params, param_table
from .runtime import Settings, pick_device, resolve_profile, seed_everything, setup
from .train import History, evaluate, fit, load_checkpoint, predict, predict_image, train_epoch

__version__ = "0.1.0"
