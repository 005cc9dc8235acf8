"""One training update of AC-SUM-GAN: four phases over the same B videos (method.md 5-6).

1. Encoder:        L_rec + L_prior      -> eLSTM (+ linear_mu, linear_var), lr
2. Decoder:        L_rec + L_gen        -> dLSTM, lr
3. Discriminator:  L_orig + L_sum       -> cLSTM and linear_compress, discriminator_lr
4. Actor-critic:   actor + critic + L_sparse -> actor, sLSTM, linear_compress (one Adam)
                                               and the critic (another), lr

Each phase recomputes x = linear_compress(features) with the current weights and runs
its own episode. Each per-video loss is divided by B and summed; the phase's gradient
(only with respect to its own parameters) is clipped to global norm ``clip`` and one
Adam step is taken. Every video of the batch goes through each network in one call.

All randomness of an update comes from a :class:`Draws` made up front: the actor's
uniforms of each phase and the VAE noise of phases 1-3 and of each phase-4 reward.
The per-video reference implementation (tests/reference.py) consumes the same draws,
which is how the equivalence test compares the two.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import TrainingDivergedError
from ..model.episode import Batch, Episode, fragment_state, run_episode, weighted
from ..model.networks import ACSumGAN

PHASES = ("encoder", "decoder", "discriminator", "actor_critic")


@dataclass
class Draws:
    """The random numbers of one update."""

    u: Tensor  # (4, N, B) float64 uniforms: the actor's samples in each phase
    eps: Tensor  # (3, L, B, H) VAE noise of phases 1-3
    eps_reward: Tensor  # (N, L, B, H) VAE noise of each phase-4 reward


def make_draws(gen: torch.Generator, batch: Batch, num_layers: int, hidden_size: int,
               device="cpu", dtype=torch.float32) -> Draws:
    """Draw everything an update needs from ``gen`` (a CPU generator), in a fixed order."""
    N, B = batch.N, batch.size
    u = torch.rand(4, N, B, generator=gen, dtype=torch.float64)
    eps = torch.randn(3, num_layers, B, hidden_size, generator=gen)
    eps_reward = torch.randn(N, num_layers, B, hidden_size, generator=gen)
    return Draws(u.to(device), eps.to(device, dtype), eps_reward.to(device, dtype))


def phase_parameters(model: ACSumGAN) -> dict[str, list[torch.nn.Parameter]]:
    """The parameters each phase updates (and clips together)."""
    lc = list(model.linear_compress.parameters())
    return {
        "encoder": list(model.vae.e_lstm.parameters()),
        "decoder": list(model.vae.d_lstm.parameters()),
        "discriminator": list(model.discriminator.parameters()) + lc,
        "actor_critic": list(model.actor.parameters()) + lc + list(model.s_lstm.parameters())
        + list(model.critic.parameters()),
    }


class Optimizers:
    """The release's five Adam optimizers (default betas, no weight decay)."""

    def __init__(self, model: ACSumGAN, lr: float, discriminator_lr: float):
        lc = list(model.linear_compress.parameters())
        self.e = torch.optim.Adam(model.vae.e_lstm.parameters(), lr=lr)
        self.d = torch.optim.Adam(model.vae.d_lstm.parameters(), lr=lr)
        self.c = torch.optim.Adam(list(model.discriminator.parameters()) + lc, lr=discriminator_lr)
        self.a = torch.optim.Adam(list(model.actor.parameters()) + list(model.s_lstm.parameters()) + lc, lr=lr)
        self.critic = torch.optim.Adam(model.critic.parameters(), lr=lr)
        self.by_phase = {"encoder": [self.e], "decoder": [self.d], "discriminator": [self.c],
                         "actor_critic": [self.a, self.critic]}

    def state_dict(self) -> dict:
        return {k: getattr(self, k).state_dict() for k in ("e", "d", "c", "a", "critic")}

    def load_state_dict(self, state: dict) -> None:
        for k in ("e", "d", "c", "a", "critic"):
            getattr(self, k).load_state_dict(state[k])


# --- the pieces every phase shares -------------------------------------------------

def reconstruction_loss(phi_x: Tensor, phi_hat: Tensor) -> Tensor:
    """L_rec = || phi(x) - phi(x_hat) ||_2 per video (B,)."""
    return (phi_x - phi_hat).norm(dim=-1)


def prior_loss(mu: Tensor, logvar: Tensor) -> Tensor:
    """L_prior = 0.5 * sum(-1 + exp(logvar) + mu^2 - logvar) over the L x H entries (B,)."""
    return 0.5 * (-1 + logvar.exp() + mu.pow(2) - logvar).sum(dim=(0, 2))


def sparsity_loss(s: Tensor, lengths: Tensor, sigma: float) -> Tensor:
    """L_sparse = | mean(s) - sigma | over each video's own steps (B,)."""
    return (s.sum(0) / lengths.to(s.device, s.dtype) - sigma).abs()


@torch.no_grad()
def frame_scores_of(model: ACSumGAN, batch: Batch, cache: dict | None) -> tuple[Tensor, Tensor, Tensor]:
    """No-grad (x, s, phi(x)). Within one update, linear_compress, sLSTM and the
    discriminator do not change before phase 3 takes its step, so phases 1-3 share
    these values through ``cache`` (identical to recomputing them)."""
    if cache is not None and "x" in cache:
        return cache["x"], cache["s"], cache["phi_x"]
    x = model.compress(batch.features)
    s = model.s_lstm(x, batch.lengths)
    phi_x, _ = model.discriminator(x, batch.lengths)
    if cache is not None:
        cache.update(x=x, s=s, phi_x=phi_x)
    return x, s, phi_x


def summary_features(model: ACSumGAN, batch: Batch, u: Tensor, cache: dict | None = None
                     ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """No-grad episode: (x, s, phi(x), w) with w the weighted features of the episode's picks."""
    x, s, phi_x = frame_scores_of(model, batch, cache)
    with torch.no_grad():
        ep = run_episode(model.actor, fragment_state(s, batch), batch, u)
        _, w = weighted(x, s, ep.final_table, batch)
    return x, s, phi_x, w


# --- the four phases: each returns (loss to differentiate, per-video statistics) ----

def encoder_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, cache: dict | None = None
                  ) -> tuple[Tensor, dict]:
    x, _, phi_x, w = summary_features(model, batch, draws.u[0], cache)
    mu, logvar, x_hat = model.vae(w, batch.lengths, draws.eps[0])
    phi_hat, _ = model.discriminator(x_hat, batch.lengths)
    rec = reconstruction_loss(phi_x, phi_hat)
    prior = prior_loss(mu, logvar)
    e_loss = rec + prior
    return e_loss.sum() / batch.size, {"prior_loss": prior, "e_loss": e_loss}


def decoder_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, cache: dict | None = None
                  ) -> tuple[Tensor, dict]:
    x, _, phi_x, w = summary_features(model, batch, draws.u[1], cache)
    with torch.no_grad():
        mu, logvar, c = model.vae.encode(w, batch.lengths)
        z = mu + draws.eps[1] * torch.exp(0.5 * logvar)
    x_hat = model.vae.d_lstm(z, c, batch.lengths)
    phi_hat, prob_hat = model.discriminator(x_hat, batch.lengths)
    rec = reconstruction_loss(phi_x, phi_hat)
    g_loss = (prob_hat - 1).pow(2)
    with torch.no_grad():
        mask = batch.mask(x.dtype)
        rec_init = ((x - x_hat).norm(dim=-1) * mask).sum(0) / batch.lengths.to(x.device, x.dtype)
    d_loss = rec + g_loss
    return d_loss.sum() / batch.size, {"recon_loss": rec, "g_loss": g_loss, "d_loss": d_loss,
                                       "recon_loss_init": rec_init}


def discriminator_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, cache: dict | None = None
                        ) -> tuple[Tensor, dict]:
    x = model.compress(batch.features)
    _, prob_x = model.discriminator(x, batch.lengths)
    c_orig = (prob_x - 1).pow(2)
    _, s, _ = frame_scores_of(model, batch, cache)
    with torch.no_grad():
        ep = run_episode(model.actor, fragment_state(s, batch), batch, draws.u[2])
        _, w = weighted(x, s, ep.final_table, batch)
        _, _, x_hat = model.vae(w, batch.lengths, draws.eps[2])
    _, prob_hat = model.discriminator(x_hat, batch.lengths)
    c_sum = prob_hat.pow(2)
    return (c_orig + c_sum).sum() / batch.size, {"c_original_loss": c_orig, "c_summary_loss": c_sum}


@torch.no_grad()
def episode_rewards(model: ACSumGAN, x: Tensor, s: Tensor, ep: Episode, batch: Batch, eps_reward: Tensor,
                    chunk_steps: int) -> Tensor:
    """r (N, B): for every new pick, 1 - ||phi(x) - phi(x_hat)|| of the summary made of
    all distinct picks so far (own VAE noise); 0 for a repeated pick.

    A reward does not depend on earlier rewards, so all rewards of all videos are
    computed together, in chunks of at most ``chunk_steps`` padded steps.
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
        b, i = pairs[start:start + n, 0], pairs[start:start + n, 1]
        lens = lengths[b.cpu()]
        factors = ep.tables[i, b].gather(1, batch.frag[b, :T_chunk]).transpose(0, 1)  # (T_chunk, n)
        w = (factors * s[:T_chunk, b]).unsqueeze(-1) * x[:T_chunk, b]
        eps = eps_reward[i, :, b].transpose(0, 1)  # (L, n, H)
        _, _, x_hat = model.vae(w, lens, eps)
        phi_hat, _ = model.discriminator(x_hat, lens)
        r[i, b] = 1 - reconstruction_loss(phi_x[b], phi_hat)
        start += n
    return r


def discounted_returns(r: Tensor, gamma: float) -> Tensor:
    """z_i = sum_{k >= i} gamma^(k - i) r_k over the episode (no bootstrap), (N, B)."""
    z = torch.zeros_like(r)
    running = torch.zeros_like(r[0]) if r.shape[0] else None
    for i in range(r.shape[0] - 1, -1, -1):
        running = r[i] + gamma * running
        z[i] = running
    return z


def actor_critic_phase(model: ACSumGAN, batch: Batch, draws: Draws, cfg, cache: dict | None = None
                       ) -> tuple[Tensor, dict]:
    x = model.compress(batch.features)
    s = model.s_lstm(x, batch.lengths)
    sparsity = sparsity_loss(s, batch.lengths, cfg.regularization_factor)
    # The actor and critic see s detached, so the sparsity loss is the only path into
    # sLSTM and linear_compress: take its gradient now and free their graph before the
    # rewards need memory. The gradient is the same as differentiating the summed loss.
    scorer = [p for p in (*model.linear_compress.parameters(), *model.s_lstm.parameters()) if p.requires_grad]
    early = {}
    if scorer:
        grads = torch.autograd.grad(sparsity.sum() / batch.size, scorer, allow_unused=True)
        early = {p: g for p, g in zip(scorer, grads) if g is not None}
    x, s, sparsity = x.detach(), s.detach(), sparsity.detach()
    ep = run_episode(model.actor, fragment_state(s, batch), batch, draws.u[3], track_grad=True)
    values = model.critic(ep.states)  # (N, B)
    r = episode_rewards(model, x, s, ep, batch, draws.eps_reward, cfg.reward_chunk_steps)
    z = discounted_returns(r, cfg.discount)
    act = ep.active.to(x.dtype)
    n_act = act.sum(0).clamp(min=1)
    adv = z - values
    actor = -((ep.logp * adv.detach() * act).sum(0) / n_act + cfg.entropy_coef * (ep.entropy * act).sum(0) / n_act)
    critic = (adv.pow(2) * act).sum(0) / n_act
    loss = (actor + critic + sparsity).sum() / batch.size
    stats = {"actor_loss": actor, "critic_loss": critic, "sparsity_loss": sparsity,
             "reward": (r * act).sum(0) / n_act, EARLY_GRADS: early}
    return loss, stats


# key of a phase's statistics holding gradients it already took ({parameter: gradient}),
# added to the gradient of its returned loss
EARLY_GRADS = "_early_grads"

PHASE_FUNCTIONS = {
    "encoder": encoder_phase,
    "decoder": decoder_phase,
    "discriminator": discriminator_phase,
    "actor_critic": actor_critic_phase,
}


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


def phase_gradients(phase: str, model: ACSumGAN, batch: Batch, draws: Draws, cfg,
                    params: list[torch.nn.Parameter] | None = None, cache: dict | None = None
                    ) -> tuple[list[Tensor], dict, Tensor]:
    """Loss of one phase and its gradient with respect to that phase's parameters only."""
    params = phase_parameters(model)[phase] if params is None else params
    with trainable_only(model, params):
        loss, stats = PHASE_FUNCTIONS[phase](model, batch, draws, cfg, cache)
    early = stats.pop(EARLY_GRADS, {})
    grads = torch.autograd.grad(loss, params, allow_unused=True) if loss.requires_grad else [None] * len(params)
    out = []
    for p, g in zip(params, grads):
        e = early.get(p)
        if g is None:
            g = torch.zeros_like(p) if e is None else e
        elif e is not None:
            g = g + e
        out.append(g)
    return out, stats, loss.detach()


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim`` or None (other C libraries, other systems)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Hand the memory a phase freed back to the system. A phase allocates and frees
    gigabytes of small and mid-sized blocks; glibc keeps them in its heaps, so without
    this the resident size creeps up from epoch to epoch (TVSum profile: by about
    0.4 GiB an epoch over the first epochs; flat with it). Costs a few milliseconds."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def train_step(model: ACSumGAN, opts: Optimizers, batch: Batch, draws: Draws, cfg,
               epoch: int | None = None) -> dict[str, Tensor]:
    """One four-phase update; returns per-video statistics (each (B,), batch order)."""
    model.train()
    all_params = phase_parameters(model)
    stats: dict[str, Tensor] = {}
    cache: dict = {}
    where = f"epoch {epoch}, " if epoch is not None else ""
    kept = "(training diverged; results up to the previous epoch are kept)"
    for phase in PHASES:
        params = all_params[phase]
        try:
            grads, st, loss = phase_gradients(phase, model, batch, draws, cfg, params, cache)
        except TrainingDivergedError as exc:  # NaN inside the phase (e.g. the actor's probabilities)
            raise TrainingDivergedError(None, f"{where}phase {phase}: {exc.problem} {kept}") from None
        if not torch.isfinite(loss):
            raise TrainingDivergedError(None, f"{where}phase {phase}: loss became {loss.item()} {kept}")
        for p, g in zip(params, grads):
            p.grad = g
        norm = torch.nn.utils.clip_grad_norm_(params, cfg.clip)
        if not torch.isfinite(norm):  # a finite loss with an overflowing gradient would write NaN weights
            raise TrainingDivergedError(None, f"{where}phase {phase}: gradient norm became {norm.item()} {kept}")
        for opt in opts.by_phase[phase]:
            opt.step()
        for p in params:
            p.grad = None
        if phase == "discriminator":  # linear_compress and the discriminator changed
            cache.clear()
        stats.update({k: v.detach() for k, v in st.items()})
        del grads, st, loss
        if batch.features.device.type == "cpu":
            release_freed_memory()
    return stats


@torch.no_grad()
def score_batch(model: ACSumGAN, batch: Batch, policy: str, u: Tensor | None) -> list[Tensor]:
    """Weighted scores w_s of each video (its own length), in the batch's order."""
    model.eval()
    x = model.compress(batch.features)
    s = model.s_lstm(x, batch.lengths)
    ep = run_episode(model.actor, fragment_state(s, batch), batch, u, policy=policy)
    ws, _ = weighted(x, s, ep.final_table, batch)
    return [ws[: int(batch.lengths[j]), j] for j in range(batch.size)]
