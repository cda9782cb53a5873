"""Image state -> 36 regions, the interface LXMERT expects: a feature vector and a box per region.

The paper uses Faster R-CNN region features (Visual Genome), whose weights are not obtainable
here. Grid features keep the interface ("In Defense of Grid Features for VQA", Jiang et al.
2020): a 6x6 grid over the frame gives 36 cells; a cell's feature is its pixels in [0, 1] and its
box is the cell's corners normalised to [0, 1] (x1, y1, x2, y2). Extractors are looked up by name
in `REGION_EXTRACTORS`, so another (a frozen CNN, a detector) is one class away.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from benchmark.errors import BenchmarkError


class RegionExtractor(Protocol):
    def feature_dim(self, frame_shape: tuple[int, ...]) -> int: ...

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, H, W) or (B, H, W, C) uint8 frames -> features (B, 36, D) and boxes (B, 36, 4), float32."""
        ...


class GridRegions:
    """A `grid` x `grid` partition of the frame; needs H and W divisible by `grid`."""

    def __init__(self, grid: int = 6):
        self.grid = grid

    def _cell(self, frame_shape: tuple[int, ...]) -> tuple[int, int]:
        height, width = frame_shape[:2]
        if height % self.grid or width % self.grid:
            raise BenchmarkError(f"frame {height}x{width} does not split into a {self.grid}x{self.grid} grid")
        return height // self.grid, width // self.grid

    def feature_dim(self, frame_shape: tuple[int, ...]) -> int:
        cell_h, cell_w = self._cell(frame_shape)
        channels = frame_shape[2] if len(frame_shape) == 3 else 1
        return cell_h * cell_w * channels

    def boxes(self) -> np.ndarray:
        edges = np.linspace(0.0, 1.0, self.grid + 1, dtype=np.float32)
        rows, cols = np.meshgrid(np.arange(self.grid), np.arange(self.grid), indexing="ij")
        rows, cols = rows.ravel(), cols.ravel()
        return np.stack([edges[cols], edges[rows], edges[cols + 1], edges[rows + 1]], axis=1)

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch = frames.shape[0]
        cell_h, cell_w = self._cell(frames.shape[1:])
        channels = frames.shape[3] if frames.ndim == 4 else 1
        cells = frames.reshape(batch, self.grid, cell_h, self.grid, cell_w, channels)
        # (B, row, col, cell_h, cell_w, C): row-major cells, the same order as `boxes`
        cells = cells.transpose(0, 1, 3, 2, 4, 5).reshape(batch, self.grid * self.grid, -1)
        features = cells.astype(np.float32) / 255.0
        return features, np.broadcast_to(self.boxes(), (batch, *self.boxes().shape)).copy()


REGION_EXTRACTORS: dict[str, type] = {"grid": GridRegions}


def region_extractor(name: str) -> RegionExtractor:
    if name not in REGION_EXTRACTORS:
        raise BenchmarkError(f"unknown region extractor {name!r}; known: {', '.join(sorted(REGION_EXTRACTORS))}")
    return REGION_EXTRACTORS[name]()
