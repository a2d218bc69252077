"""timing.time_batch_sizes (notebooks 05 and 06): one row per batch size, every size timed from
the same seeded starting weights."""

import torch
from torch import nn

from course_utils.timing import time_batch_sizes


def test_every_batch_size_gets_a_row_and_the_same_starting_weights():
    images, labels = torch.randn(8, 3, 4, 4), torch.arange(8) % 2
    starts = []

    def model_fn():
        model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2))
        starts.append(model[1].weight.detach().clone())
        return model

    rows = time_batch_sizes(
        model_fn,
        images,
        labels,
        [1, 4],
        0.1,
        optimizer_fn=lambda model, lr: torch.optim.SGD(model.parameters(), lr=lr),
        steps=2,
        epoch_images=10,
    )
    assert [row["batch_size"] for row in rows] == [1, 4]
    assert all(row["seconds_per_step"] > 0 for row in rows)
    assert rows[1]["images_per_second"] == 4 / rows[1]["seconds_per_step"]
    assert rows[1]["epoch_seconds_est"] == 3 * rows[1]["seconds_per_step"]  # 10 images: 3 batches of 4
    assert len(starts) == 2 and torch.equal(starts[0], starts[1])
