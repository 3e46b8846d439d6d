"""``SummaryWriter.add_embedding``: points for TensorBoard's projector, in the files PyTorch's writer makes.

Under ``<log_dir>/<step, five digits>/<tag>/`` (``/`` and ``%`` in the tag written ``%2f`` and ``%25``):
``tensors.tsv`` (one point per line, its coordinates tab-separated), ``metadata.tsv`` (one label per line, or a
header and columns), ``sprite.png`` (the points' images in one square grid, ⌈√N⌉ to a row, pixels ×255); and in
``<log_dir>/projector_config.pbtxt`` every embedding logged so far (TensorBoard's ``ProjectorConfig`` as text).
Each file is written whole or not at all (:func:`glassgrad.io.write_atomically`).
"""

from __future__ import annotations

import io
import math
import os
from typing import Any

import numpy as np
from google.protobuf import text_format
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

from ..io import write_atomically
from .tensorboard_summaries import grid, numbers


def folder_name(tag: str) -> str:
    """The tag as one folder name: ``%`` → ``%25``, ``/`` → ``%2f``, ``\\`` → ``%5c``."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def write_embedding(log_dir: str, config: ProjectorConfig, mat: Any, metadata: Any = None, label_img: Any = None,
                    global_step: Any = None, tag: str = "default", metadata_header: Any = None) -> None:
    """Write one embedding's files and add it to ``config`` (written to ``projector_config.pbtxt``)."""
    points = numbers(mat, "add_embedding")
    step = str(0 if global_step is None else global_step).zfill(5)
    folder = f"{step}/{folder_name(tag)}"
    path = os.path.join(log_dir, folder)
    if os.path.isdir(path):
        print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
    elif os.path.exists(path):
        raise NotADirectoryError(f"add_embedding: {path} exists and is a file; give another tag or global_step")
    os.makedirs(path, exist_ok=True)
    if metadata is not None:
        if len(metadata) != points.shape[0]:
            raise AssertionError(f"add_embedding: {len(metadata)} labels for {points.shape[0]} points; give one "
                                 "label per point (row of mat)")
        if metadata_header and len(metadata_header) != len(metadata[0]):
            raise AssertionError(f"add_embedding: metadata_header names {len(metadata_header)} columns, the labels "
                                 f"have {len(metadata[0])}; give one name per column")
        lines = ([str(label) for label in metadata] if not metadata_header else
                 ["\t".join(str(entry) for entry in row) for row in [metadata_header, *metadata]])
        write_atomically(os.path.join(path, "metadata.tsv"), ("\n".join(lines) + "\n").encode("utf-8"))
    if label_img is not None:
        images = numbers(label_img, "add_embedding")
        if images.shape[0] != points.shape[0]:
            raise AssertionError(f"add_embedding: {images.shape[0]} images for {points.shape[0]} points; give one "
                                 "image per point")
        write_atomically(os.path.join(path, "sprite.png"), _sprite(images))
    if points.ndim != 2:
        raise AssertionError(f"add_embedding: mat must be 2-D (one row per point), got shape {points.shape}")
    rows = ("\t".join(str(value) for value in row) + "\n" for row in points.tolist())
    write_atomically(os.path.join(path, "tensors.tsv"), "".join(rows).encode("utf-8"))
    info = EmbeddingInfo(tensor_name=f"{tag}:{step}", tensor_path=os.path.join(folder, "tensors.tsv"))
    if metadata is not None:
        info.metadata_path = os.path.join(folder, "metadata.tsv")
    if label_img is not None:
        info.sprite.image_path = os.path.join(folder, "sprite.png")
        info.sprite.single_image_dim.extend([images.shape[3], images.shape[2]])
    config.embeddings.extend([info])
    write_atomically(os.path.join(log_dir, "projector_config.pbtxt"), text_format.MessageToString(config).encode())


def _sprite(images: np.ndarray) -> bytes:
    """The images (N, 1 or 3, H, W), values in [0, 1], as one square PNG grid of ⌈√N⌉ to a row."""
    from PIL import Image

    laid_out = grid(images, per_row=math.ceil(images.shape[0] ** 0.5)).transpose(1, 2, 0)
    side = laid_out.shape[1]
    square = np.zeros((side, side, 3))
    square[:laid_out.shape[0]] = laid_out
    png = io.BytesIO()
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(png, format="PNG")
    return png.getvalue()
