"""The AC-SUM-GAN networks (method.md section 3), batched over videos.

Sequences are time-major and padded: ``x`` is (T_max, B, H) with the videos sorted by
length, longest first, and ``lengths`` (B,) on the CPU. LSTMs run on packed sequences,
so a video's final state is taken at its own last step and padding never leaks into
a result. Module and parameter names follow the authors' release (``linear_compress``,
``summarizer.s_lstm``, ``summarizer.vae.e_lstm``, ``summarizer.vae.d_lstm``,
``discriminator``, ``actor``, ``critic``), so its checkpoints map onto ours by prefix.
With the defaults the model has 26,748,991 parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def packed(x: Tensor, lengths: Tensor):
    """Pack a padded (T_max, B, H) batch sorted by decreasing length."""
    return pack_padded_sequence(x, lengths, enforce_sorted=True)


class ScorerLSTM(nn.Module):
    """sLSTM: bidirectional 2-layer LSTM -> Linear(2H, 1) -> sigmoid, one score per step."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, bidirectional=True)
        self.out = nn.Sequential(nn.Linear(2 * hidden_size, 1), nn.Sigmoid())

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (T_max, B, H) -> scores (T_max, B); padded steps are 0."""
        out, _ = self.lstm(packed(x, lengths))
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
        return self.out(out).squeeze(-1) * step_mask(lengths, x.shape[0], x.device, out.dtype)


class EncoderLSTM(nn.Module):
    """eLSTM: 2-layer LSTM keeping its final (h, c); owns linear_mu and linear_var."""

    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers)
        self.linear_mu = nn.Linear(hidden_size, hidden_size)
        self.linear_var = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """x (T_max, B, H) -> final (h, c), each (num_layers, B, H)."""
        _, (h, c) = self.lstm(packed(x, lengths))
        return h, c


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
        """
        L, B, H = h0.shape
        T_max = int(lengths[0])
        lens = lengths.tolist()
        h = list(h0.unbind(0))
        c = list(c0.unbind(0))
        inp = h0.new_zeros(B, H)
        outs = []
        active = B
        for t in range(T_max):
            while active > 0 and lens[active - 1] <= t:
                active -= 1
            if active < inp.shape[0]:
                inp = inp[:active]
                h = [s[:active] for s in h]
                c = [s[:active] for s in c]
            x = inp
            for layer, cell in enumerate(self.lstm_cell.layers):
                h[layer], c[layer] = cell(x, (h[layer], c[layer]))
                x = h[layer]
            outs.append(x)
            if t + 1 < T_max:
                inp = self.out(x)
        return reverse_padded(outs, lengths, B)


def reverse_padded(outs: list[Tensor], lengths: Tensor, B: int) -> Tensor:
    """Stack per-step outputs (each (active_t, H)) into (T_max, B, H), reversing each
    video in time: ``y[t, b] = outs[len_b - 1 - t][b]`` for t < len_b, else 0."""
    T_max = len(outs)
    H = outs[0].shape[-1]
    padded = torch.stack([F.pad(o, (0, 0, 0, B - o.shape[0])) for o in outs])  # (T_max, B, H)
    device = padded.device
    t = torch.arange(T_max, device=device).unsqueeze(1)
    lens = lengths.to(device).unsqueeze(0)
    src = torch.where(t < lens, lens - 1 - t, t)
    y = padded.gather(0, src.unsqueeze(-1).expand(T_max, B, H))
    return y * (t < lens).unsqueeze(-1).to(y.dtype)


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
        _, (h, _) = self.cLSTM.lstm(packed(x, lengths))
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
    """All trainable parts of AC-SUM-GAN."""

    def __init__(self, input_size: int = 1024, hidden_size: int = 512, num_layers: int = 2,
                 action_state_size: int = 60):
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
