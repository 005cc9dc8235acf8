"""A straightforward per-video implementation of one AC-SUM-GAN update.

Written the way the authors' release is: one video at a time through every network
(batch 1), Python loops over fragments and actor steps, a VAE call after every new
pick, losses divided by B and accumulated with ``backward()`` on the whole model. It
consumes the same :class:`~acsumgan.train.update.Draws` as the batched trainer, so the
two can be compared loss for loss and gradient for gradient (tests/train/test_update.py),
and it is the per-video baseline of ``benchmarks/train_speed.py``. It is the readable
statement of the algorithm; the batched update is the fast one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.distributions import Categorical

from ..model.fragments import fragment_bounds, termination_point
from .update import PHASE_NAMES, Draws, phase_parameters


def _scores(model, x):
    """sLSTM on one video (T, 1, H) -> (T,)."""
    out, _ = model.s_lstm.lstm(x)
    return model.s_lstm.out(out.squeeze(1)).squeeze(-1)


def _phi(model, x):
    _, (h, _) = model.discriminator.cLSTM.lstm(x)
    phi = h[-1, 0]
    return phi, model.discriminator.out(phi).squeeze(-1)


def _vae(model, w, eps):
    """w (T, 1, H), eps (L, H) -> mu, logvar (L, H), x_hat (T, 1, H)."""
    vae = model.vae
    _, (h, c) = vae.e_lstm.lstm(w)
    h = h.squeeze(1)
    mu = vae.e_lstm.linear_mu(h)
    logvar = torch.log(F.softplus(vae.e_lstm.linear_var(h)))
    z = mu + eps * torch.exp(0.5 * logvar)
    hs, cs = list(z), list(c.squeeze(1))
    inp = torch.zeros_like(hs[0])
    outs = []
    for _ in range(w.shape[0]):
        layer_in = inp
        for layer, cell in enumerate(vae.d_lstm.lstm_cell.layers):
            h_new, c_new = cell(layer_in.unsqueeze(0), (hs[layer].unsqueeze(0), cs[layer].unsqueeze(0)))
            hs[layer], cs[layer] = h_new[0], c_new[0]
            layer_in = hs[layer]
        outs.append(layer_in)
        inp = vae.d_lstm.out(layer_in)
    outs.reverse()
    return mu, logvar, torch.stack(outs).unsqueeze(1)


class _Episode:
    """The release's AC() loop for one video."""

    def __init__(self, model, s, T, M, u, track=False):
        bounds = fragment_bounds(T, M)
        self.bounds = bounds
        m_eff = len(bounds)
        n = termination_point(m_eff)
        self.m_eff, self.n = m_eff, n
        state = torch.zeros(M, dtype=s.dtype)
        for f, (a, b) in enumerate(bounds):
            state[f] = s[a : b + 1].mean().detach()
        self.state0 = state
        self.action_scores = torch.full((T,), (m_eff - n) / m_eff, dtype=s.dtype)
        mask = torch.ones(M, dtype=s.dtype)
        picked: list[int] = []
        self.steps = []  # (state, dist, action, new, action_scores snapshot)
        for i in range(n):
            cur = state * mask
            logits = model.actor(cur)
            if m_eff < M:
                logits = logits.masked_fill(torch.arange(M) >= m_eff, float("-inf"))
            dist = Categorical(F.softmax(logits, dim=-1))
            cdf = dist.probs.detach().cumsum(-1)
            a = min(int((cdf < float(u[i])).sum()), m_eff - 1)
            new = a not in picked
            if new:
                factor = (n - len(picked)) / (m_eff - len(picked)) + 1
                lo, hi = bounds[a]
                self.action_scores = self.action_scores.clone()
                self.action_scores[lo : hi + 1] = factor
                picked.append(a)
                mask = mask.clone()
                mask[a] = 0
            self.steps.append((cur, dist, a, new, self.action_scores))


def reference_phase(phase, model, features, draws: Draws, cfg):
    """Per-video losses of one phase; gradients accumulated into ``.grad`` (zeroed first).

    ``features`` is the list of the batch's videos (each (T, D)) in batch order.
    Returns ({statistic: tensor (B,)}, [grads of the phase's parameters]).
    """
    model.zero_grad(set_to_none=True)
    B = len(features)
    M = cfg.action_state_size
    stats: dict[str, list[float]] = {}

    def add(name, value):
        stats.setdefault(name, []).append(float(value.detach()) if torch.is_tensor(value) else float(value))

    for b, feat in enumerate(features):
        T = feat.shape[0]
        x = model.linear_compress(feat).unsqueeze(1)  # (T, 1, H)
        if phase == "encoder":
            s = _scores(model, x)
            ep = _Episode(model, s, T, M, draws.u[0, :, b])
            w = (ep.action_scores * s).view(-1, 1, 1) * x
            mu, logvar, x_hat = _vae(model, w, draws.eps[0, :, b])
            phi_x, _ = _phi(model, x)
            phi_hat, _ = _phi(model, x_hat)
            rec = torch.norm(phi_x - phi_hat, p=2)
            prior = 0.5 * torch.sum(-1 + logvar.exp() + mu.pow(2) - logvar)
            ((rec + prior) / B).backward()
            add("prior_loss", prior)
            add("e_loss", rec + prior)
        elif phase == "decoder":
            s = _scores(model, x)
            ep = _Episode(model, s, T, M, draws.u[1, :, b])
            w = (ep.action_scores * s).view(-1, 1, 1) * x
            _, _, x_hat = _vae(model, w, draws.eps[1, :, b])
            phi_x, _ = _phi(model, x)
            phi_hat, prob_hat = _phi(model, x_hat)
            rec = torch.norm(phi_x - phi_hat, p=2)
            g = (prob_hat - 1) ** 2
            ((rec + g) / B).backward()
            add("recon_loss", rec)
            add("g_loss", g)
            add("d_loss", rec + g)
        elif phase == "discriminator":
            _, prob_x = _phi(model, x)
            c_orig = (prob_x - 1) ** 2
            (c_orig / B).backward()
            s = _scores(model, x)
            ep = _Episode(model, s, T, M, draws.u[2, :, b])
            w = (ep.action_scores * s).view(-1, 1, 1) * x
            _, _, x_hat = _vae(model, w, draws.eps[2, :, b])
            _, prob_hat = _phi(model, x_hat.detach())
            c_sum = prob_hat**2
            (c_sum / B).backward()
            add("c_original_loss", c_orig)
            add("c_summary_loss", c_sum)
        else:
            s = _scores(model, x)
            ep = _Episode(model, s, T, M, draws.u[3, :, b], track=True)
            phi_x, _ = _phi(model, x)
            log_probs, values, rewards = [], [], []
            entropy = 0
            for i, (state, dist, a, new, scores_now) in enumerate(ep.steps):
                values.append(model.critic(state))
                if new:
                    w = (scores_now * s).view(-1, 1, 1) * x
                    _, _, x_hat = _vae(model, w, draws.eps_reward[i, :, b])
                    phi_hat, _ = _phi(model, x_hat)
                    rewards.append(1 - torch.norm(phi_x - phi_hat, p=2).item())
                else:
                    rewards.append(0.0)
                log_probs.append(dist.log_prob(torch.tensor(a)))
                entropy = entropy + dist.entropy()
            n = len(ep.steps)
            if n:
                R, returns = 0.0, []
                for r in reversed(rewards):
                    R = r + cfg.discount * R
                    returns.insert(0, R)
                returns = torch.tensor(returns, dtype=s.dtype)
                adv = returns - torch.stack(values)
                actor = -((torch.stack(log_probs) * adv.detach()).mean() + (cfg.entropy_coef / n) * entropy)
                critic = adv.pow(2).mean()
            else:
                actor = critic = torch.zeros((), dtype=s.dtype)
            sparsity = torch.abs(s.mean() - cfg.regularization_factor)
            ((actor + critic + sparsity) / B).backward()
            add("actor_loss", actor)
            add("critic_loss", critic)
            add("sparsity_loss", sparsity)
            add("reward", sum(rewards) / n if n else 0.0)
    params = phase_parameters(model)[phase]
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in params]
    return {k: torch.tensor(v) for k, v in stats.items()}, grads


def reference_train_step(model, opts, features, draws: Draws, cfg):
    """One full update, per video, applying each phase's step like the release."""
    out = {}
    params = phase_parameters(model)
    for phase in PHASE_NAMES:
        st, grads = reference_phase(phase, model, features, draws, cfg)
        for p, g in zip(params[phase], grads):
            p.grad = g
        torch.nn.utils.clip_grad_norm_(params[phase], cfg.clip)
        for opt in opts.by_phase[phase]:
            opt.step()
        model.zero_grad(set_to_none=True)
        out.update(st)
    return out
