"""One training update of AC-SUM-GAN: four phases over the same B videos (method.md section 6).

Each phase recomputes x = linear_compress(features) with the current weights and runs
its own episode (:mod:`acsumgan.model.episode`). Each per-video loss is divided by B
and summed; the phase's gradient, with respect to its own parameters only, is clipped
to global norm ``clip`` and one Adam step is taken per optimizer. Every video of the
batch goes through each network in one call.

All randomness of an update comes from :class:`Draws`, made up front: the actor's
uniforms of each phase and the VAE noise of phases 1-3 and of each phase-4 reward. The
per-video implementation (:mod:`acsumgan.train.reference`) consumes the same draws,
which is how the equivalence tests compare the two.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..errors import TrainingDivergedError
from ..model.episode import Batch, Episode, fragment_state, run_episode, weighted
from ..model.networks import ACSumGAN
from .losses import (
    actor_loss,
    advantage,
    critic_loss,
    discounted_returns,
    generator_loss,
    mean_reward,
    original_loss,
    prior_loss,
    reconstruction_loss,
    reward,
    sparsity_loss,
    summary_loss,
)

# --- the random numbers of an update -------------------------------------------------------


@dataclass
class Draws:
    """The random numbers of one update."""

    u: Tensor  # (4, N, B) float64 uniforms: the actor's samples in each phase
    eps: Tensor  # (3, L, B, H) VAE noise of phases 1-3
    eps_reward: Tensor  # (N, L, B, H) VAE noise of each phase-4 reward


def make_draws(
    gen: torch.Generator, batch: Batch, num_layers: int, hidden_size: int, device="cpu", dtype=torch.float32
) -> Draws:
    """Draw everything an update needs from ``gen`` (a CPU generator), in a fixed order."""
    N, B = batch.N, batch.size
    u = torch.rand(4, N, B, generator=gen, dtype=torch.float64)
    eps = torch.randn(3, num_layers, B, hidden_size, generator=gen)
    eps_reward = torch.randn(N, num_layers, B, hidden_size, generator=gen)
    return Draws(u.to(device), eps.to(device, dtype), eps_reward.to(device, dtype))


# --- what the phases share ---------------------------------------------------------------


@dataclass
class FixedPasses:
    """x, s = sLSTM(x) and phi(x), without gradient, at the weights the update starts
    from. linear_compress, sLSTM and the discriminator change only when phase 3 takes
    its step, so phases 1-3 read these instead of recomputing them (same values)."""

    x: Tensor
    s: Tensor
    phi_x: Tensor

    @classmethod
    @torch.no_grad()
    def of(cls, model: ACSumGAN, batch: Batch) -> "FixedPasses":
        x = model.compress(batch.features)
        s = model.s_lstm(x, batch.lengths)
        phi_x, _ = model.discriminator(x, batch.lengths)
        return cls(x, s, phi_x)


@dataclass
class PhaseLoss:
    """A phase's loss (to differentiate), its per-video statistics (each (B,)), and the
    gradients it already took itself ({parameter: gradient}, added to the loss's)."""

    loss: Tensor
    stats: dict[str, Tensor]
    taken: dict = field(default_factory=dict)


@torch.no_grad()
def summary_features(model: ACSumGAN, batch: Batch, fixed: FixedPasses, u: Tensor) -> Tensor:
    """w: the weighted features of a no-grad episode on the fixed passes."""
    ep = run_episode(model.actor, fragment_state(fixed.s, batch), batch, u)
    _, w = weighted(fixed.x, fixed.s, ep.final_table, batch)
    return w


@torch.no_grad()
def step_reconstruction_distance(x: Tensor, x_hat: Tensor, batch: Batch) -> Tensor:
    """Mean over steps of || x_t - x_hat_t || (logged as ``recon_loss_init``; no gradient), (B,)."""
    mask = batch.mask(x.dtype)
    return ((x - x_hat).norm(dim=-1) * mask).sum(0) / batch.lengths.to(x.device, x.dtype)


# --- the four phases ------------------------------------------------------------------------


def encoder_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, fixed: FixedPasses) -> PhaseLoss:
    """1. Encoder: L_rec + L_prior."""
    w = summary_features(model, batch, fixed, draws.u[0])
    mu, logvar, x_hat = model.vae(w, batch.lengths, draws.eps[0])
    phi_hat, _ = model.discriminator(x_hat, batch.lengths)
    rec = reconstruction_loss(fixed.phi_x, phi_hat)
    prior = prior_loss(mu, logvar)
    e_loss = rec + prior
    return PhaseLoss(e_loss.sum() / batch.size, {"prior_loss": prior, "e_loss": e_loss})


def decoder_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, fixed: FixedPasses) -> PhaseLoss:
    """2. Decoder: L_rec + L_gen (the encoder's output taken as given)."""
    w = summary_features(model, batch, fixed, draws.u[1])
    with torch.no_grad():
        mu, logvar, c = model.vae.encode(w, batch.lengths)
        z = mu + draws.eps[1] * torch.exp(0.5 * logvar)
    x_hat = model.vae.d_lstm(z, c, batch.lengths)
    phi_hat, prob_hat = model.discriminator(x_hat, batch.lengths)
    rec = reconstruction_loss(fixed.phi_x, phi_hat)
    g_loss = generator_loss(prob_hat)
    d_loss = rec + g_loss
    return PhaseLoss(
        d_loss.sum() / batch.size,
        {
            "recon_loss": rec,
            "g_loss": g_loss,
            "d_loss": d_loss,
            "recon_loss_init": step_reconstruction_distance(fixed.x, x_hat, batch),
        },
    )


def discriminator_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, fixed: FixedPasses) -> PhaseLoss:
    """3. Discriminator (and linear_compress): L_orig on x + L_sum on x_hat.detach()."""
    x = model.compress(batch.features)
    _, prob_x = model.discriminator(x, batch.lengths)
    c_orig = original_loss(prob_x)
    with torch.no_grad():
        ep = run_episode(model.actor, fragment_state(fixed.s, batch), batch, draws.u[2])
        _, w = weighted(x, fixed.s, ep.final_table, batch)
        _, _, x_hat = model.vae(w, batch.lengths, draws.eps[2])
    _, prob_hat = model.discriminator(x_hat, batch.lengths)
    c_sum = summary_loss(prob_hat)
    return PhaseLoss((c_orig + c_sum).sum() / batch.size, {"c_original_loss": c_orig, "c_summary_loss": c_sum})


def actor_critic_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, fixed: FixedPasses | None = None) -> PhaseLoss:
    """4. Scorer + actor + critic: actor loss + critic loss + L_sparse, a reward after every new pick."""
    x = model.compress(batch.features)
    s = model.s_lstm(x, batch.lengths)
    sparsity = sparsity_loss(s, batch.lengths, cfg.regularization_factor)
    # The actor and critic see s detached, so L_sparse is the only path into sLSTM and
    # linear_compress: its gradient is taken now and their graph freed before the
    # rewards need memory (the same gradient as differentiating the summed loss).
    taken = gradient_now(sparsity.sum() / batch.size, scorer_parameters(model))
    x, s, sparsity = x.detach(), s.detach(), sparsity.detach()
    ep = run_episode(model.actor, fragment_state(s, batch), batch, draws.u[3], track_grad=True)
    values = model.critic(ep.states)  # (N, B)
    r = episode_rewards(model, x, s, ep, batch, draws.eps_reward, cfg.reward_chunk_steps)
    adv = advantage(discounted_returns(r, cfg.discount), values)
    actor = actor_loss(ep.logp, adv, ep.entropy, ep.active, cfg.entropy_coef)
    critic = critic_loss(adv, ep.active)
    loss = (actor + critic + sparsity).sum() / batch.size
    return PhaseLoss(
        loss,
        {"actor_loss": actor, "critic_loss": critic, "sparsity_loss": sparsity, "reward": mean_reward(r, ep.active)},
        taken,
    )


@torch.no_grad()
def episode_rewards(
    model: ACSumGAN, x: Tensor, s: Tensor, ep: Episode, batch: Batch, eps_reward: Tensor, chunk_steps: int
) -> Tensor:
    """r (N, B): the reward of every new pick (0 for a repeated pick).

    A reward does not depend on earlier rewards, so the rewards of all steps of all
    videos go through the VAE and the discriminator together, in chunks of at most
    ``chunk_steps`` padded steps (the memory bound).
    """
    N, B = ep.new.shape
    r = torch.zeros(N, B, dtype=x.dtype, device=x.device)
    if N == 0 or not bool(ep.new.any()):
        return r
    phi_x, _ = model.discriminator(x, batch.lengths)
    pairs = ep.new.transpose(0, 1).nonzero()  # (P, 2) rows (b, i), sorted by b: lengths non-increasing
    lengths = batch.lengths
    start = 0
    P = pairs.shape[0]
    while start < P:
        T_chunk = int(lengths[int(pairs[start, 0])])
        n = max(1, min(P - start, chunk_steps // max(1, T_chunk)))
        b, i = pairs[start : start + n, 0], pairs[start : start + n, 1]
        lens = lengths[b.cpu()]
        factors = ep.tables[i, b].gather(1, batch.frag[b, :T_chunk]).transpose(0, 1)  # (T_chunk, n)
        w = (factors * s[:T_chunk, b]).unsqueeze(-1) * x[:T_chunk, b]
        eps = eps_reward[i, :, b].transpose(0, 1)  # (L, n, H)
        _, _, x_hat = model.vae(w, lens, eps)
        phi_hat, _ = model.discriminator(x_hat, lens)
        r[i, b] = reward(phi_x[b], phi_hat)
        start += n
    return r


# --- the phase table: the one place where parameters meet optimizers --------------------------

#: The networks by name (parameter-name prefixes of the release).
NETWORKS: dict[str, Callable[[ACSumGAN], torch.nn.Module]] = {
    "linear_compress": lambda m: m.linear_compress,
    "s_lstm": lambda m: m.s_lstm,
    "e_lstm": lambda m: m.vae.e_lstm,
    "d_lstm": lambda m: m.vae.d_lstm,
    "discriminator": lambda m: m.discriminator,
    "actor": lambda m: m.actor,
    "critic": lambda m: m.critic,
}


@dataclass(frozen=True)
class Optimizer:
    """One Adam optimizer of a phase: its name, the networks it updates, its learning rate option."""

    name: str
    networks: tuple[str, ...]
    lr: str  # "lr" or "discriminator_lr" (a TrainConfig field)


@dataclass(frozen=True)
class Phase:
    """A phase: its loss and its optimizers. The parameters of all its optimizers, in
    this order, are what it differentiates and clips together."""

    name: str
    loss: Callable[..., PhaseLoss]
    optimizers: tuple[Optimizer, ...]

    def parameters(self, model: ACSumGAN) -> list[torch.nn.Parameter]:
        return [p for o in self.optimizers for net in o.networks for p in NETWORKS[net](model).parameters()]


PHASES: tuple[Phase, ...] = (
    Phase("encoder", encoder_phase, (Optimizer("e", ("e_lstm",), "lr"),)),
    Phase("decoder", decoder_phase, (Optimizer("d", ("d_lstm",), "lr"),)),
    Phase(
        "discriminator",
        discriminator_phase,
        (Optimizer("c", ("discriminator", "linear_compress"), "discriminator_lr"),),
    ),
    Phase(
        "actor_critic",
        actor_critic_phase,
        (Optimizer("a", ("actor", "linear_compress", "s_lstm"), "lr"), Optimizer("critic", ("critic",), "lr")),
    ),
)
PHASE_NAMES = tuple(p.name for p in PHASES)
PHASE_BY_NAME = {p.name: p for p in PHASES}


def phase_parameters(model: ACSumGAN) -> dict[str, list[torch.nn.Parameter]]:
    """The parameters each phase updates (and clips together), by phase name."""
    return {p.name: p.parameters(model) for p in PHASES}


def scorer_parameters(model: ACSumGAN) -> list[torch.nn.Parameter]:
    """linear_compress and sLSTM: what L_sparse reaches in phase 4."""
    return [*model.linear_compress.parameters(), *model.s_lstm.parameters()]


class Optimizers:
    """The release's five Adam optimizers (default betas, no weight decay), built from
    :data:`PHASES`."""

    def __init__(self, model: ACSumGAN, lr: float, discriminator_lr: float):
        rates = {"lr": lr, "discriminator_lr": discriminator_lr}
        self.by_name: dict[str, torch.optim.Adam] = {}
        self.by_phase: dict[str, list[torch.optim.Adam]] = {}
        for phase in PHASES:
            self.by_phase[phase.name] = []
            for o in phase.optimizers:
                params = [p for net in o.networks for p in NETWORKS[net](model).parameters()]
                self.by_name[o.name] = torch.optim.Adam(params, lr=rates[o.lr])
                self.by_phase[phase.name].append(self.by_name[o.name])

    def state_dict(self) -> dict:
        return {k: opt.state_dict() for k, opt in self.by_name.items()}

    def load_state_dict(self, state: dict) -> None:
        for k, opt in self.by_name.items():
            opt.load_state_dict(state[k])


# --- differentiating a phase ----------------------------------------------------------------


@contextmanager
def trainable_only(model: ACSumGAN, params: list[torch.nn.Parameter]):
    """Let autograd track only ``params`` (the phase's own): the graph of the other
    networks keeps only what the phase's gradient flows through."""
    keep = {id(p) for p in params}
    frozen = [p for p in model.parameters() if id(p) not in keep and p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in frozen:
            p.requires_grad_(True)


def gradient_now(loss: Tensor, params: list[torch.nn.Parameter]) -> dict:
    """{parameter: d loss / d parameter} for the tracked ``params`` that ``loss`` reaches."""
    tracked = [p for p in params if p.requires_grad]
    if not tracked:
        return {}
    grads = torch.autograd.grad(loss, tracked, allow_unused=True)
    return {p: g for p, g in zip(tracked, grads) if g is not None}


def phase_gradients(
    phase: Phase | str, model: ACSumGAN, batch: Batch, draws: Draws, cfg, fixed: FixedPasses | None = None
) -> tuple[list[Tensor], dict, Tensor]:
    """Loss of one phase and its gradient with respect to that phase's parameters only
    (zeros for a parameter it does not reach)."""
    phase = PHASE_BY_NAME[phase] if isinstance(phase, str) else phase
    params = phase.parameters(model)
    if fixed is None and phase.name != "actor_critic":
        fixed = FixedPasses.of(model, batch)
    with trainable_only(model, params):
        out = phase.loss(model, batch, draws, cfg, fixed)
    loss = out.loss
    grads = torch.autograd.grad(loss, params, allow_unused=True) if loss.requires_grad else [None] * len(params)
    total = []
    for p, g in zip(params, grads):
        e = out.taken.get(p)
        if g is None:
            g = torch.zeros_like(p) if e is None else e
        elif e is not None:
            g = g + e
        total.append(g)
    return total, out.stats, loss.detach()


_DIVERGED = "(training diverged; results up to the previous epoch are kept)"


def train_step(
    model: ACSumGAN,
    opts: Optimizers,
    batch: Batch,
    draws: Draws,
    cfg,
    epoch: int | None = None,
    after_phase: Callable[[], None] | None = None,
) -> dict[str, Tensor]:
    """One four-phase update; returns per-video statistics (each (B,), batch order).
    ``after_phase`` runs after each phase's step (the trainer hands back freed memory)."""
    model.train()
    fixed = FixedPasses.of(model, batch)  # valid for phases 1-3 (phase 3's step changes them)
    stats: dict[str, Tensor] = {}
    where = f"epoch {epoch}, " if epoch is not None else ""
    for phase in PHASES:
        params = phase.parameters(model)
        try:
            grads, st, loss = phase_gradients(phase, model, batch, draws, cfg, fixed)
        except TrainingDivergedError as exc:  # NaN inside the phase (e.g. the actor's probabilities)
            raise TrainingDivergedError(None, f"{where}phase {phase.name}: {exc.problem} {_DIVERGED}") from None
        if not torch.isfinite(loss):
            raise TrainingDivergedError(None, f"{where}phase {phase.name}: loss became {loss.item()} {_DIVERGED}")
        for p, g in zip(params, grads):
            p.grad = g
        norm = torch.nn.utils.clip_grad_norm_(params, cfg.clip)
        if not torch.isfinite(norm):  # a finite loss with an overflowing gradient would write NaN weights
            raise TrainingDivergedError(
                None, f"{where}phase {phase.name}: gradient norm became {norm.item()} {_DIVERGED}"
            )
        for opt in opts.by_phase[phase.name]:
            opt.step()
        for p in params:
            p.grad = None
        if phase.name == "discriminator":
            fixed = None  # linear_compress and the discriminator changed
        stats.update({k: v.detach() for k, v in st.items()})
        del grads, st, loss
        if after_phase is not None:
            after_phase()
    return stats
