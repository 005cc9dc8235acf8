"""The losses of AC-SUM-GAN, in the order of method.md section 5.

Every function works on a batch of B videos and returns one value per video, (B,)
(the returns: (N, B)); the phases of :mod:`acsumgan.train.update` divide by B and sum.
``phi`` is the discriminator's representation (top-layer final hidden state of cLSTM),
``prob`` its output sigmoid(Linear(phi)).
"""

from __future__ import annotations

from torch import Tensor


def reconstruction_loss(phi_x: Tensor, phi_hat: Tensor) -> Tensor:
    """L_rec = || phi(x) - phi(x_hat) ||_2: plain L2 norm of the H-dim difference, (B,)."""
    return (phi_x - phi_hat).norm(dim=-1)


def prior_loss(mu: Tensor, logvar: Tensor) -> Tensor:
    """L_prior = 0.5 * sum(-1 + exp(logvar) + mu^2 - logvar) over the L x H entries, (B,).
    ``mu`` and ``logvar`` are (L, B, H)."""
    return 0.5 * (-1 + logvar.exp() + mu.pow(2) - logvar).sum(dim=(0, 2))


def sparsity_loss(s: Tensor, lengths: Tensor, sigma: float) -> Tensor:
    """L_sparse = | mean(s) - sigma | on the raw scorer output s (T_max, B), each video's
    mean over its own steps (padding of s is zero), (B,)."""
    return (s.sum(0) / lengths.to(s.device, s.dtype) - sigma).abs()


def generator_loss(prob_hat: Tensor) -> Tensor:
    """L_gen = (prob(x_hat) - 1)^2: the decoder wants x_hat taken for an original, (B,)."""
    return (prob_hat - 1).pow(2)


def original_loss(prob_x: Tensor) -> Tensor:
    """L_orig = (prob(x) - 1)^2: the discriminator labels the original 1, (B,)."""
    return (prob_x - 1).pow(2)


def summary_loss(prob_hat: Tensor) -> Tensor:
    """L_sum = prob(x_hat)^2: the discriminator labels the summary's reconstruction 0, (B,)."""
    return prob_hat.pow(2)


def reward(phi_x: Tensor, phi_hat: Tensor) -> Tensor:
    """r = 1 - || phi(x) - phi(x_hat) ||_2 of the summary of all distinct picks so far, (B,).
    Taken as a plain number (the caller computes it without gradient); a repeated pick
    gets r = 0 instead."""
    return 1 - reconstruction_loss(phi_x, phi_hat)


def discounted_returns(r: Tensor, gamma: float) -> Tensor:
    """z_i = sum_{k >= i} gamma^(k - i) r_k over the episode (no bootstrap), (N, B)."""
    z = r.new_zeros(r.shape)
    running = r.new_zeros(r.shape[1:]) if r.shape[0] else None
    for i in range(r.shape[0] - 1, -1, -1):
        running = r[i] + gamma * running
        z[i] = running
    return z


def advantage(z: Tensor, values: Tensor) -> Tensor:
    """A_i = z_i - V(state_i), (N, B)."""
    return z - values


def _steps(active: Tensor, dtype) -> tuple[Tensor, Tensor]:
    """0/1 mask of each video's own actor steps (N, B) and their count (B,), at least 1."""
    act = active.to(dtype)
    return act, act.sum(0).clamp(min=1)


def actor_loss(logp: Tensor, adv: Tensor, entropy: Tensor, active: Tensor, entropy_coef: float) -> Tensor:
    """-( mean_i log pi(a_i | state_i) * A_i.detach() + entropy_coef * mean_i entropy_i ), (B,).
    Means over each video's own N' steps (``active``); ``logp``, ``entropy`` (N, B)."""
    act, n = _steps(active, adv.dtype)
    return -((logp * adv.detach() * act).sum(0) / n + entropy_coef * (entropy * act).sum(0) / n)


def critic_loss(adv: Tensor, active: Tensor) -> Tensor:
    """mean_i A_i^2 over each video's own steps, (B,)."""
    act, n = _steps(active, adv.dtype)
    return (adv.pow(2) * act).sum(0) / n


def mean_reward(r: Tensor, active: Tensor) -> Tensor:
    """The episode's mean reward per video (logged as ``reward``; the criterion's R), (B,)."""
    act, n = _steps(active, r.dtype)
    return (r * act).sum(0) / n
