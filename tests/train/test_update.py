"""The batched four-phase update against the per-video reference (method.md 4-6).

Same weights, same draws: the batched trainer and acsumgan.train.reference (one video at a
time, like the release) must give the same per-video losses, the same gradients for
every phase and the same parameters after a full update. Lengths cover the release's
quirk range, the short-video rule (T < 60, T <= 6 with no picks) and long videos.
"""

import copy

import numpy as np
import pytest
import torch

from acsumgan.config import TrainConfig
from acsumgan.model.episode import make_batch
from acsumgan.model.networks import ACSumGAN
from acsumgan.train.reference import reference_phase, reference_train_step
from acsumgan.train.update import (
    PHASE_NAMES,
    Optimizers,
    discounted_returns,
    make_draws,
    phase_gradients,
    phase_parameters,
    train_step,
)

LENGTHS = [130, 61, 75, 45, 200, 5, 1, 118]


def _setup(seed=0, lengths=LENGTHS):
    torch.manual_seed(seed)
    cfg = TrainConfig(input_size=24, hidden_size=16, regularization_factor=0.3)
    model = ACSumGAN(**cfg.model_kwargs()).double()
    rng = np.random.default_rng(seed)
    feats = [np.abs(rng.normal(size=(T, 24))) for T in lengths]
    batch = make_batch(feats, [f"v{i}" for i in range(len(lengths))], 60, dtype=torch.float64)
    draws = make_draws(torch.Generator().manual_seed(seed), batch, cfg.num_layers, cfg.hidden_size, dtype=torch.float64)
    ordered = [torch.as_tensor(feats[i]) for i in batch.order]
    return cfg, model, batch, draws, ordered


@pytest.mark.parametrize(
    "phase", [pytest.param(p, marks=pytest.mark.slow) if p == "actor_critic" else p for p in PHASE_NAMES]
)  # actor_critic: about 3-4 s
def test_phase_losses_and_gradients_match_reference(phase):
    cfg, model, batch, draws, feats = _setup()
    ref_model = copy.deepcopy(model)
    grads, stats, _ = phase_gradients(phase, model, batch, draws, cfg)
    ref_stats, ref_grads = reference_phase(phase, ref_model, feats, draws, cfg)
    for name, value in ref_stats.items():
        torch.testing.assert_close(
            stats[name].cpu(), value.to(stats[name].dtype), rtol=1e-7, atol=1e-9, msg=lambda m: f"{phase}/{name}: {m}"
        )
    assert len(grads) == len(ref_grads)
    for g, rg in zip(grads, ref_grads):
        torch.testing.assert_close(g, rg, rtol=1e-6, atol=1e-10)
    # the gradient is not trivially zero
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.slow
def test_full_update_matches_reference():
    cfg, model, batch, draws, feats = _setup(seed=3)
    ref_model = copy.deepcopy(model)
    opts = Optimizers(model, cfg.lr, cfg.discriminator_lr)
    ref_opts = Optimizers(ref_model, cfg.lr, cfg.discriminator_lr)
    for step in range(2):
        stats = train_step(model, opts, batch, draws, cfg)
        ref_stats = reference_train_step(ref_model, ref_opts, feats, draws, cfg)
        for name in ref_stats:
            torch.testing.assert_close(stats[name], ref_stats[name].to(stats[name].dtype), rtol=1e-6, atol=1e-9)
    for (n, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-9, msg=lambda m: f"{n}: {m}")


def test_rewards_of_new_picks_only_and_in_range():
    cfg, model, batch, draws, _ = _setup(seed=5)
    _, stats, _ = phase_gradients("actor_critic", model, batch, draws, cfg)
    r = stats["reward"]
    # videos with T <= 6 make no picks: no reward
    for j, T in enumerate(batch.lengths.tolist()):
        if T <= 6:
            assert r[j] == 0
        else:
            assert r[j] != 0 and r[j] <= 1


def test_discounted_returns_known_answer():
    r = torch.tensor([[1.0], [0.0], [2.0]])
    z = discounted_returns(r, 0.5)
    assert z[:, 0].tolist() == [1.0 + 0.25 * 2.0, 0.5 * 2.0, 2.0]


def _grad_of(loss_fn, params):
    g = torch.autograd.grad(loss_fn(), params, allow_unused=True)
    return [torch.zeros_like(p) if x is None else x for p, x in zip(params, g)]


def test_scorer_learns_from_sparsity_alone():
    """Phase 4: the sLSTM gradient equals that of L_sparse / B alone (state and rewards
    are detached), and linear_compress's too."""
    from acsumgan.train.update import sparsity_loss

    cfg, model, batch, draws, _ = _setup(seed=7)
    params = phase_parameters(model)["actor_critic"]
    grads, _, _ = phase_gradients("actor_critic", model, batch, draws, cfg)
    s_params = list(model.s_lstm.parameters()) + list(model.linear_compress.parameters())

    def sparse_only():
        x = model.compress(batch.features)
        s = model.s_lstm(x, batch.lengths)
        return sparsity_loss(s, batch.lengths, cfg.regularization_factor).sum() / batch.size

    expected = _grad_of(sparse_only, s_params)
    by_param = {id(p): g for p, g in zip(params, grads)}
    for p, e in zip(s_params, expected):
        torch.testing.assert_close(by_param[id(p)], e, rtol=1e-7, atol=1e-12)


def test_each_phase_changes_only_its_own_networks():
    cfg, model, batch, draws, _ = _setup(seed=11)
    opts = Optimizers(model, cfg.lr, cfg.discriminator_lr)
    groups = {
        "linear_compress": model.linear_compress,
        "s_lstm": model.s_lstm,
        "e_lstm": model.vae.e_lstm,
        "d_lstm": model.vae.d_lstm,
        "discriminator": model.discriminator,
        "actor": model.actor,
        "critic": model.critic,
    }
    expected = {
        "encoder": {"e_lstm"},
        "decoder": {"d_lstm"},
        "discriminator": {"discriminator", "linear_compress"},
        "actor_critic": {"actor", "critic", "s_lstm", "linear_compress"},
    }
    all_params = phase_parameters(model)
    for phase in PHASE_NAMES:
        before = {k: [p.detach().clone() for p in m.parameters()] for k, m in groups.items()}
        grads, _, _ = phase_gradients(phase, model, batch, draws, cfg)
        for p, g in zip(all_params[phase], grads):
            p.grad = g
        torch.nn.utils.clip_grad_norm_(all_params[phase], cfg.clip)
        for o in opts.by_phase[phase]:
            o.step()
        changed = {
            k for k, m in groups.items() if any(not torch.equal(a, b) for a, b in zip(before[k], m.parameters()))
        }
        assert changed == expected[phase], phase


def test_gradient_is_clipped_to_global_norm():
    cfg, model, batch, draws, _ = _setup(seed=2)
    cfg.clip = 1e-3
    params = phase_parameters(model)["encoder"]
    grads, _, _ = phase_gradients("encoder", model, batch, draws, cfg)
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, cfg.clip)
    total = torch.sqrt(sum((p.grad**2).sum() for p in params))
    assert float(total) == pytest.approx(1e-3, rel=1e-6)
