"""PyTorch's ``torch.utils`` names: ``glassgrad.utils.data`` is :mod:`glassgrad.data`'s batching part."""
