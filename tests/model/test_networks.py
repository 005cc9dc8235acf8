"""Networks (method.md section 3): exact size, and batching that never leaks padding."""

import numpy as np
import pytest
import torch

from acsumgan.errors import ConfigError
from acsumgan.model.episode import make_batch
from acsumgan.model.networks import ACSumGAN, build_model, count_parameters, parameter_count


def test_parameter_count_with_release_defaults():
    assert count_parameters(ACSumGAN()) == 26_748_991


@pytest.mark.parametrize("sizes", [(1024, 512, 2, 60), (32, 16, 1, 7), (1280, 24, 3, 60), (5, 8, 4, 3)])
def test_parameter_count_without_building_equals_the_built_model(sizes):
    assert parameter_count(*sizes) == count_parameters(ACSumGAN(*sizes))


def test_parameter_count_of_the_release_defaults():
    assert parameter_count(1024, 512, 2, 60) == 26_748_991


def test_build_model_refuses_a_model_larger_than_memory_before_allocating():
    with pytest.raises(ConfigError) as info:
        build_model(32, 60000, 2, 60, training=True)  # 327,609,465,055 parameters: 5.2 TB to train
    assert info.value.path is None
    assert info.value.problem.startswith("the model (hidden_size 60000, num_layers 2, action_state_size 60) has ")
    assert "327,609,465,055 parameters: training it needs about 5.2 TB of memory, more than the " in info.value.problem
    # a million layers is arithmetic too: refused at once, nothing built
    with pytest.raises(ConfigError, match="num_layers 1000000"):
        build_model(32, 512, 1_000_000, 60)


def test_build_model_of_a_fitting_size_is_the_seeded_model():
    torch.manual_seed(3)
    a = build_model(32, 16, 2, 60, training=True)
    torch.manual_seed(3)
    b = ACSumGAN(32, 16, 2, 60)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_release_parameter_names():
    names = set(ACSumGAN(input_size=8, hidden_size=4).state_dict())
    for n in (
        "linear_compress.weight",
        "summarizer.s_lstm.lstm.weight_hh_l1_reverse",
        "summarizer.s_lstm.out.0.weight",
        "summarizer.vae.e_lstm.linear_mu.weight",
        "summarizer.vae.e_lstm.linear_var.bias",
        "summarizer.vae.d_lstm.lstm_cell.layers.1.weight_ih",
        "summarizer.vae.d_lstm.out.weight",
        "discriminator.cLSTM.lstm.weight_ih_l0",
        "discriminator.out.0.weight",
        "actor.linear4.weight",
        "critic.linear5.bias",
    ):
        assert n in names


def _videos(lengths, D, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(T, D)).astype(np.float64) for T in lengths]


def test_batched_networks_equal_one_video_at_a_time():
    torch.manual_seed(0)
    model = ACSumGAN(input_size=12, hidden_size=8).double()
    feats = _videos([7, 23, 3, 15], 12)
    batch = make_batch(feats, ["a", "b", "c", "d"], 60, dtype=torch.float64)
    eps = torch.randn(2, 4, 8, dtype=torch.float64)
    with torch.no_grad():
        x = model.compress(batch.features)
        s = model.s_lstm(x, batch.lengths)
        phi, prob = model.discriminator(x, batch.lengths)
        mu, logvar, x_hat = model.vae(x, batch.lengths, eps)
        for j in range(batch.size):
            T = int(batch.lengths[j])
            xj = x[:T, j : j + 1]
            lj = batch.lengths[j : j + 1]
            torch.testing.assert_close(s[:T, j], model.s_lstm(xj, lj)[:, 0])
            assert (s[T:, j] == 0).all()
            pj, prj = model.discriminator(xj, lj)
            torch.testing.assert_close(phi[j], pj[0])
            torch.testing.assert_close(prob[j], prj[0])
            _, _, xh = model.vae(xj, lj, eps[:, j : j + 1])
            torch.testing.assert_close(x_hat[:T, j], xh[:, 0])
            assert (x_hat[T:, j] == 0).all()


def test_decoder_output_is_reversed_in_time():
    torch.manual_seed(1)
    model = ACSumGAN(input_size=6, hidden_size=5).double()
    dec = model.vae.d_lstm
    h0 = torch.randn(2, 1, 5, dtype=torch.float64)
    c0 = torch.randn(2, 1, 5, dtype=torch.float64)
    with torch.no_grad():
        out = dec(h0, c0, torch.tensor([4]))[:, 0]
        # step by step by hand
        h, c = list(h0[:, 0]), list(c0[:, 0])
        inp = torch.zeros(5, dtype=torch.float64)
        rec = []
        for _ in range(4):
            x = inp
            for i, cell in enumerate(dec.lstm_cell.layers):
                hh, cc = cell(x[None], (h[i][None], c[i][None]))
                h[i], c[i] = hh[0], cc[0]
                x = h[i]
            rec.append(x)
            inp = dec.out(x)
    torch.testing.assert_close(out, torch.stack(rec[::-1]))


def test_float32_fast_kernels_equal_one_video_at_a_time():
    """The dense oneDNN/cuDNN calls (float32) agree with per-video runs to float tolerance."""
    torch.manual_seed(2)
    model = ACSumGAN(input_size=40, hidden_size=32)
    feats = [f.astype(np.float32) for f in _videos([90, 61, 61, 7, 130, 1], 40, seed=3)]
    batch = make_batch(feats, [str(i) for i in range(6)], 60)
    eps = torch.randn(2, 6, 32)
    with torch.no_grad():
        x = model.compress(batch.features)
        s = model.s_lstm(x, batch.lengths)
        phi, _ = model.discriminator(x, batch.lengths)
        h, c = model.vae.e_lstm(x, batch.lengths)
        _, _, x_hat = model.vae(x, batch.lengths, eps)
        for j in range(batch.size):
            T = int(batch.lengths[j])
            xj, lj = x[:T, j : j + 1], batch.lengths[j : j + 1]
            out, _ = model.s_lstm.lstm(xj)
            torch.testing.assert_close(s[:T, j], model.s_lstm.out(out)[:, 0, 0], rtol=1e-4, atol=1e-5)
            _, (hj, cj) = model.discriminator.cLSTM.lstm(xj)
            torch.testing.assert_close(phi[j], hj[-1, 0], rtol=1e-4, atol=1e-5)
            _, (hj, cj) = model.vae.e_lstm.lstm(xj)
            torch.testing.assert_close(h[:, j], hj[:, 0], rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(c[:, j], cj[:, 0], rtol=1e-4, atol=1e-5)
            _, _, xh = model.vae(xj, lj, eps[:, j : j + 1])
            torch.testing.assert_close(x_hat[:T, j], xh[:, 0], rtol=1e-4, atol=1e-5)
