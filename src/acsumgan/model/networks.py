"""The AC-SUM-GAN networks (method.md section 3), batched over videos.

Sequences are time-major and padded: ``x`` is (T_max, B, H) with the videos sorted by
length, longest first, and ``lengths`` (B,) on the CPU. Every LSTM result is exactly
what one video at a time would give (a final state is taken at the video's own last
step; padding never leaks into a result), but the work is done in dense calls of the
fused LSTM kernels (oneDNN on CPU, cuDNN on GPU), which packed sequences cannot use.
Module and parameter names follow the authors' release (``linear_compress``,
``summarizer.s_lstm``, ``summarizer.vae.e_lstm``, ``summarizer.vae.d_lstm``,
``discriminator``, ``actor``, ``critic``), so its checkpoints map onto ours by prefix.
With the defaults the model has 26,748,991 parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..memory import available_memory
from .decoder_kernel import decode


def _layer_weights(lstm: nn.LSTM, layer: int, suffix: str = "") -> list[Tensor]:
    return [getattr(lstm, f"{name}_l{layer}{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _run(x: Tensor, hx: tuple[Tensor, Tensor], weights: list[Tensor], num_layers: int):
    """One call of the fused LSTM kernel (oneDNN on CPU, cuDNN on GPU) on a padded batch."""
    return torch.lstm(x, hx, weights, True, num_layers, 0.0, False, False, False)


def run_segmented(
    x: Tensor, lengths: Tensor, weights: list[Tensor], num_layers: int, hidden: int, outputs: bool = False
) -> tuple[Tensor | None, Tensor, Tensor]:
    """An LSTM over a padded batch sorted longest first, exactly as per video.

    The time axis is cut at every distinct length: each piece runs the fused kernel on
    the videos still going (a prefix of the batch), starting from the states the
    previous piece ended in, and the videos that end there hand in their final states.
    Results are exact (as packing would give) and no step of padding is computed, but
    every call is a dense one the fast kernels accept.

    Returns (top-layer outputs (T_max, B, H) with zeros after each end, or None;
    final h; final c), the finals each (num_layers, B, H).
    """
    B = x.shape[1]
    lens = lengths.tolist()
    h = x.new_zeros(num_layers, B, hidden)
    c = x.new_zeros(num_layers, B, hidden)
    finals_h: list[Tensor] = []
    finals_c: list[Tensor] = []
    outs: list[Tensor] = []
    ends = sorted(set(lens))
    # split (not slice) the time axis: its backward is one concatenation, where slicing
    # would fill a zero tensor of the whole input for every piece
    pieces = x[: ends[-1]].split([b - a for a, b in zip([0] + ends[:-1], ends)], dim=0)
    active = B
    for end, piece in zip(ends, pieces):
        out, h, c = _run(
            piece[:, :active] if active < B else piece, (h[:, :active], c[:, :active]), weights, num_layers
        )
        if outputs:
            outs.append(F.pad(out, (0, 0, 0, B - active)) if active < B else out)
        still = sum(1 for n in lens if n > end)
        finals_h.append(h[:, still:active])
        finals_c.append(c[:, still:active])
        active = still
    out = torch.cat(outs) if outputs else None
    return out, torch.cat(finals_h[::-1], dim=1), torch.cat(finals_c[::-1], dim=1)


def lstm_final_state(lstm: nn.LSTM, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Final (h, c) of every video at its own last step, each (num_layers, B, H)."""
    _, h, c = run_segmented(x, lengths, lstm._flat_weights, lstm.num_layers, lstm.hidden_size)
    return h, c


def reverse_each(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse every video in time within its own length (padding stays at the end)."""
    T_max, B = x.shape[:2]
    t = torch.arange(T_max, device=x.device).unsqueeze(1)
    lens = lengths.to(x.device).unsqueeze(0)
    src = torch.where(t < lens, lens - 1 - t, t)
    return x.gather(0, src.unsqueeze(-1).expand_as(x))


class ScorerLSTM(nn.Module):
    """sLSTM: bidirectional 2-layer LSTM -> Linear(2H, 1) -> sigmoid, one score per step."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, bidirectional=True)
        self.out = nn.Sequential(nn.Linear(2 * hidden_size, 1), nn.Sigmoid())

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (T_max, B, H) -> scores (T_max, B); padded steps are 0.

        Each direction of each layer runs segmented (:func:`run_segmented`); the
        backward direction on each video reversed within its own length.
        """
        mask = step_mask(lengths, x.shape[0], x.device, x.dtype)
        H = self.lstm.hidden_size
        inp = x
        for layer in range(self.lstm.num_layers):
            fwd, _, _ = run_segmented(inp, lengths, _layer_weights(self.lstm, layer), 1, H, outputs=True)
            rev, _, _ = run_segmented(
                reverse_each(inp, lengths), lengths, _layer_weights(self.lstm, layer, "_reverse"), 1, H, outputs=True
            )
            inp = torch.cat([fwd, reverse_each(rev, lengths)], dim=-1)
        return self.out(inp).squeeze(-1) * mask


class EncoderLSTM(nn.Module):
    """eLSTM: 2-layer LSTM keeping its final (h, c); owns linear_mu and linear_var."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers)
        self.linear_mu = nn.Linear(hidden_size, hidden_size)
        self.linear_var = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """x (T_max, B, H) -> final (h, c), each (num_layers, B, H)."""
        return lstm_final_state(self.lstm, x, lengths)


class StackedLSTMCell(nn.Module):
    """The decoder's stacked LSTM cells (one step of all layers)."""

    def __init__(self, num_layers: int, input_size: int, hidden_size: int):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.LSTMCell(input_size if i == 0 else hidden_size, hidden_size) for i in range(num_layers)]
        )


class DecoderLSTM(nn.Module):
    """dLSTM: stacked LSTM cells run for T steps from (z, c); the next input is
    ``out(h_top)``; the recorded top-layer states, reversed in time, are x_hat."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm_cell = StackedLSTMCell(num_layers, hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)

    def forward(self, h0: Tensor, c0: Tensor, lengths: Tensor) -> Tensor:
        """h0, c0 (L, B, H) -> x_hat (T_max, B, H), reversed per video, padding 0.

        Videos are sorted longest first, so the videos still running at step t are a
        prefix of the batch: finished videos leave the batch instead of costing steps.
        From the second step on, the first cell's input projection and ``out`` are one
        matrix: W_ih (W_out h + b_out) = (W_ih W_out) h + W_ih b_out (the same
        arithmetic, one matrix product fewer per step); each cell's two products are
        one. The recurrence runs in :mod:`acsumgan.model.decoder_kernel`.
        """
        cells = list(self.lstm_cell.layers)
        first = cells[0]
        Ws = [torch.cat([first.weight_ih @ self.out.weight, first.weight_hh], dim=1)]
        Ws += [torch.cat([cell.weight_ih, cell.weight_hh], dim=1) for cell in cells[1:]]
        bs = [first.weight_ih @ self.out.bias + first.bias_ih + first.bias_hh]
        bs += [cell.bias_ih + cell.bias_hh for cell in cells[1:]]
        b_first = first.bias_ih + first.bias_hh  # the first input is zeros
        y = decode(h0, c0, lengths.tolist(), Ws, bs, b_first)
        return reverse_each(y, lengths) * step_mask(lengths, y.shape[0], y.device, y.dtype).unsqueeze(-1)


class VAE(nn.Module):
    """Encoder + decoder; the encoder's final h gives mu and log-variance, z is sampled."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.e_lstm = EncoderLSTM(hidden_size, num_layers)
        self.d_lstm = DecoderLSTM(hidden_size, num_layers)

    def encode(self, w: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Weighted features -> (mu, logvar, c), each (L, B, H)."""
        h, c = self.e_lstm(w, lengths)
        mu = self.e_lstm.linear_mu(h)
        logvar = torch.log(F.softplus(self.e_lstm.linear_var(h)))
        return mu, logvar, c

    def forward(self, w: Tensor, lengths: Tensor, eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """w (T_max, B, H), eps (L, B, H) ~ N(0, I) -> (mu, logvar, x_hat (T_max, B, H))."""
        mu, logvar, c = self.encode(w, lengths)
        z = mu + eps * torch.exp(0.5 * logvar)
        return mu, logvar, self.d_lstm(z, c, lengths)


class Summarizer(nn.Module):
    """Frame scorer (sLSTM) and VAE, named as in the release."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.s_lstm = ScorerLSTM(hidden_size, num_layers)
        self.vae = VAE(hidden_size, num_layers)


class CLSTM(nn.Module):
    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers)


class Discriminator(nn.Module):
    """cLSTM: phi(x) = top layer's final hidden state; prob = sigmoid(Linear(phi))."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.cLSTM = CLSTM(hidden_size, num_layers)
        self.out = nn.Sequential(nn.Linear(hidden_size, 1), nn.Sigmoid())

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """x (T_max, B, H) -> (phi (B, H), prob (B,))."""
        h, _ = lstm_final_state(self.cLSTM.lstm, x, lengths)
        phi = h[-1]
        return phi, self.out(phi).squeeze(-1)


class Actor(nn.Module):
    """M -> 512 -> 1024 -> 512 -> M logits (softmax gives the policy over fragments)."""

    def __init__(self, state_size: int):
        super().__init__()
        self.linear1 = nn.Linear(state_size, 512)
        self.linear2 = nn.Linear(512, 1024)
        self.linear3 = nn.Linear(1024, 512)
        self.linear4 = nn.Linear(512, state_size)

    def forward(self, state: Tensor) -> Tensor:
        out = F.relu(self.linear1(state))
        out = F.relu(self.linear2(out))
        out = F.relu(self.linear3(out))
        return self.linear4(out)


class Critic(nn.Module):
    """M -> 512 -> 1024 -> 512 -> 256 -> 1: the state's value."""

    def __init__(self, state_size: int):
        super().__init__()
        self.linear1 = nn.Linear(state_size, 512)
        self.linear2 = nn.Linear(512, 1024)
        self.linear3 = nn.Linear(1024, 512)
        self.linear4 = nn.Linear(512, 256)
        self.linear5 = nn.Linear(256, 1)

    def forward(self, state: Tensor) -> Tensor:
        out = F.relu(self.linear1(state))
        out = F.relu(self.linear2(out))
        out = F.relu(self.linear3(out))
        out = F.relu(self.linear4(out))
        return self.linear5(out).squeeze(-1)


class ACSumGAN(nn.Module):
    """All trainable parts of AC-SUM-GAN, under the release's parameter names.

    ``linear_compress`` (Linear D -> H), the frame scorer ``summarizer.s_lstm``, the VAE
    (``summarizer.vae``: encoder eLSTM with ``linear_mu`` and ``linear_var``, decoder dLSTM),
    the discriminator cLSTM, the actor and the critic (the docs' "The method", section 3).
    With the defaults it has 26,748,991 parameters.

    Args:
        input_size: D, the feature size (1024 for GoogLeNet pool5, 1280 for EfficientNet-Lite0).
        hidden_size: H, the size of every LSTM and of the compressed features.
        num_layers: layers of each LSTM.
        action_state_size: M, the number of fragments (the actor's actions).
    """

    def __init__(
        self, input_size: int = 1024, hidden_size: int = 512, num_layers: int = 2, action_state_size: int = 60
    ):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.action_state_size = action_state_size
        self.linear_compress = nn.Linear(input_size, hidden_size)
        self.summarizer = Summarizer(hidden_size, num_layers)
        self.discriminator = Discriminator(hidden_size, num_layers)
        self.actor = Actor(action_state_size)
        self.critic = Critic(action_state_size)

    @property
    def s_lstm(self) -> ScorerLSTM:
        return self.summarizer.s_lstm

    @property
    def vae(self) -> VAE:
        return self.summarizer.vae

    def compress(self, features: Tensor) -> Tensor:
        """features (T_max, B, D) -> x (T_max, B, H)."""
        return self.linear_compress(features)

    def inference_state_dict(self) -> dict[str, Tensor]:
        """The weights needed to score videos: linear_compress, sLSTM and the actor."""
        keep = ("linear_compress.", "summarizer.s_lstm.", "actor.")
        return {k: v for k, v in self.state_dict().items() if k.startswith(keep)}


def step_mask(lengths: Tensor, T_max: int, device, dtype=torch.float32) -> Tensor:
    """(T_max, B) mask, 1 where step t < length of video b."""
    t = torch.arange(T_max, device=device).unsqueeze(1)
    return (t < lengths.to(device).unsqueeze(0)).to(dtype)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parameter_count(input_size: int, hidden_size: int, num_layers: int, action_state_size: int) -> int:
    """The parameters of ``ACSumGAN(input_size, hidden_size, num_layers, action_state_size)``,
    counted without building it (:func:`count_parameters` of the built model gives the same)."""
    D, H, L, M = int(input_size), int(hidden_size), int(num_layers), int(action_state_size)

    def lstm(directions: int) -> int:  # nn.LSTM(H, H, L): the first layer reads H, the next ones directions * H
        gates = 4 * H * H + 8 * H  # hidden-to-gates weights and the two biases
        return directions * ((4 * H * H + gates) + (L - 1) * (4 * H * directions * H + gates))

    cell = 8 * H * H + 8 * H  # one LSTMCell(H, H)
    linear_compress = D * H + H
    s_lstm = lstm(2) + 2 * H + 1  # and its output layer
    e_lstm = lstm(1) + 2 * (H * H + H)  # and linear_mu, linear_var
    d_lstm = L * cell + H * H + H  # its cells and its output layer
    discriminator = lstm(1) + H + 1
    trunk = (512 * 1024 + 1024) + (1024 * 512 + 512)  # the 512 -> 1024 -> 512 layers of actor and critic
    actor = (M * 512 + 512) + trunk + (512 * M + M)
    critic = (M * 512 + 512) + trunk + (512 * 256 + 256) + (256 + 1)
    return linear_compress + s_lstm + e_lstm + d_lstm + discriminator + actor + critic


#: Bytes a parameter takes (float32), and to train it: the weight, its gradient and Adam's two moments.
PARAMETER_BYTES = 4
TRAIN_BYTES_PER_PARAMETER = 4 * PARAMETER_BYTES


def _size(n: float) -> str:
    """``829.0 MB``: bytes in decimal units."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


def check_model_fits(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    action_state_size: int,
    *,
    training: bool = False,
    device: str = "cpu",
) -> int:
    """The model's parameter count when its parameters fit in the memory available (the
    weights, and to train also their gradients and Adam's two moments:
    :data:`TRAIN_BYTES_PER_PARAMETER`; it is built on the CPU, so its weights need memory
    there too: :func:`~acsumgan.memory.available_memory`); else a one-line ConfigError (no
    path) naming the sizes and the memory. Arithmetic only: nothing is allocated."""
    n = parameter_count(input_size, hidden_size, num_layers, action_state_size)
    need = n * (TRAIN_BYTES_PER_PARAMETER if training else PARAMETER_BYTES)
    checks = [(n * PARAMETER_BYTES if device != "cpu" else need, available_memory(), "")]
    if str(device).startswith("cuda") and torch.cuda.is_available():
        checks.append((need, torch.cuda.mem_get_info(torch.device(device))[0], f" on {device}"))
    for bytes_needed, free, where in checks:
        if free is not None and bytes_needed > free:
            raise ConfigError(
                None,
                f"the model ({_sizes(hidden_size, num_layers, action_state_size)}) has {n:,} parameters: "
                f"{'training it' if training else 'it'} needs about {_size(bytes_needed)} of memory{where}, more "
                f"than the {_size(free)} available; lower hidden_size or num_layers",
            )
    return n


def _sizes(hidden_size, num_layers, action_state_size) -> str:
    return f"hidden_size {hidden_size}, num_layers {num_layers}, action_state_size {action_state_size}"


def build_model(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    action_state_size: int,
    *,
    training: bool = False,
    device: str = "cpu",
) -> ACSumGAN:
    """``ACSumGAN(...).to(device)`` once its parameters can fit (:func:`check_model_fits`);
    a one-line ConfigError (no path) when they cannot, or when allocating them fails all
    the same (MemoryError, PyTorch's "can't allocate memory", CUDA's "out of memory")."""
    n = check_model_fits(input_size, hidden_size, num_layers, action_state_size, training=training, device=device)
    try:
        return ACSumGAN(input_size, hidden_size, num_layers, action_state_size).to(device)
    except (MemoryError, RuntimeError) as exc:
        if not isinstance(exc, MemoryError) and "allocate" not in str(exc) and "out of memory" not in str(exc):
            raise
        raise ConfigError(
            None,
            f"cannot allocate the model ({_sizes(hidden_size, num_layers, action_state_size)}: {n:,} parameters, "
            f"{_size(n * PARAMETER_BYTES)}): out of memory; lower hidden_size or num_layers",
        ) from None
