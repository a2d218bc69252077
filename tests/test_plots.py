"""The figures' helpers on mismatched inputs: a clear error, or the images that have predictions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import plots  # noqa: E402


def test_image_grid_names_the_mismatch():
    with pytest.raises(ValueError, match="5 images but 3 labels"):
        plots.image_grid(torch.zeros(5, 1, 8, 8), [0, 1, 2])


def test_prediction_grid_shows_only_predicted_images():
    # an evaluation capped at one batch of 4 predicts 4 of the 20 images asked for (03's dry run)
    fig = plots.prediction_grid(torch.zeros(20, 3, 8, 8), torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 0, 3]))
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == ["0", "1", "2 (0)", "3"]
    plt.close(fig)


def test_plot_filters_shares_one_scale_across_filters():
    filters = torch.tensor([[[1.0, -3.0]], [[0.5, 2.0]]])  # two 1x2 filters, largest magnitude 3
    fig = plots.plot_filters(torch.zeros(4, 4), filters.requires_grad_(), torch.ones(2, 3, 3))
    shown = [ax.images[0] for ax in fig.axes if ax.get_title().startswith("filter")]
    assert [im.get_clim() for im in shown] == [(-3.0, 3.0), (-3.0, 3.0)]
    plt.close(fig)
