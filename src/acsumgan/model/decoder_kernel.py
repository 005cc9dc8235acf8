"""The decoder's recurrence as one autograd function with a hand-written backward.

The decoder (dLSTM) feeds its own output back as its next input, so no fused LSTM
kernel applies; written with ``torch.lstm_cell``, autograd would compute the weight
gradients one step at a time (matrix products whose inner size is the batch). Here
the forward keeps its gate activations, the backward walks back through time with
one matrix product per layer and step, and the weight gradients of all steps are one
large matrix product per layer at the end: the same arithmetic in fewer, larger
operations.

Layer ``l`` at step ``t``: ``gates = [x, h_l] @ W_l^T + b_l`` with ``W_l = [Wx_l | Wh_l]``
(4H x 2H), then the usual LSTM cell. ``x`` is the layer below's new state for l > 0;
for layer 0 it is the previous step's top-layer state (the caller has folded the
decoder's ``out`` layer into ``Wx_0`` and ``b_0``) and zero at the first step, which
uses the bias ``b_first`` instead. The videos are sorted longest first: at step t
only the first ``active_t`` rows run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _cell(xh: Tensor, c: Tensor, W: Tensor, b: Tensor):
    gates = torch.addmm(b, xh, W.t())
    i, f, g, o = gates.chunk(4, 1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c_new = torch.addcmul(f * c, i, g)
    tc = torch.tanh(c_new)
    return o * tc, c_new, (i, f, g, o, tc)


def decode_steps(
    z: Tensor, c0: Tensor, lens: list[int], Ws: list[Tensor], bs: list[Tensor], b_first: Tensor, keep: bool = False
):
    """Run the recurrence. Returns the top-layer state of every step (each (active_t, H))
    and, with ``keep``, what the backward needs."""
    L, B, H = z.shape
    h = list(z.unbind(0))
    c = list(c0.unbind(0))
    outs: list[Tensor] = []
    saved: list = []
    active = B
    for t in range(lens[0]):
        while active > 0 and lens[active - 1] <= t:
            active -= 1
        x = z.new_zeros(active, H) if t == 0 else outs[-1][:active]
        step = []
        for layer in range(L):
            xh = torch.cat([x, h[layer][:active]], dim=1)
            cp = c[layer][:active]
            h[layer], c[layer], acts = _cell(xh, cp, Ws[layer], b_first if (t == 0 and layer == 0) else bs[layer])
            if keep:
                step.append((xh, cp, acts))
            x = h[layer]
        outs.append(x)
        if keep:
            saved.append(step)
    return outs, saved


def pad_steps(outs: list[Tensor], B: int) -> Tensor:
    """(T_max, B, H) from per-step (active_t, H) outputs, zero where a video has ended."""
    return torch.stack([F.pad(o, (0, 0, 0, B - o.shape[0])) for o in outs])


class DecodeFunction(torch.autograd.Function):
    """``y (T_max, B, H) = decoder(z, c0)``, y[t] the top-layer state at step t (zero
    after a video's end). Gradients for z, c0, b_first and every W_l, b_l."""

    @staticmethod
    def forward(ctx, z, c0, lens, b_first, *params):
        L = z.shape[0]
        Ws, bs = list(params[:L]), list(params[L:])
        outs, saved = decode_steps(z, c0, lens, Ws, bs, b_first, keep=True)
        ctx.saved = saved
        ctx.dims = z.shape
        ctx.save_for_backward(*Ws)
        return pad_steps(outs, z.shape[1])

    @staticmethod
    def backward(ctx, grad_y):
        Ws = ctx.saved_tensors
        L, B, H = ctx.dims
        saved = ctx.saved
        dh = grad_y.new_zeros(L, B, H)
        dc = grad_y.new_zeros(L, B, H)
        feed = grad_y.new_zeros(B, H)  # reaches step t's top state through step t+1's input
        need_w = any(ctx.needs_input_grad[4:])
        G: list[list[Tensor]] = [[] for _ in range(L)]
        X: list[list[Tensor]] = [[] for _ in range(L)]
        d_first = None
        for t in range(len(saved) - 1, -1, -1):
            step = saved[t]
            active = step[0][0].shape[0]
            d_below = grad_y[t, :active] + feed[:active]
            for layer in range(L - 1, -1, -1):
                xh, cp, (i, f, g, o, tc) = step[layer]
                dh_l = dh[layer, :active] + d_below
                dc_l = dc[layer, :active] + dh_l * o * (1 - tc * tc)
                dgates = torch.cat(
                    [dc_l * g * i * (1 - i), dc_l * cp * f * (1 - f), dc_l * i * (1 - g * g), dh_l * tc * o * (1 - o)],
                    dim=1,
                )
                dxh = dgates @ Ws[layer]
                dh[layer, :active] = dxh[:, H:]
                dc[layer, :active] = dc_l * f
                if need_w:
                    G[layer].append(dgates)
                    X[layer].append(xh)
                if t == 0 and layer == 0:
                    d_first = dgates.sum(0)
                d_below = dxh[:, :H]
            feed = grad_y.new_zeros(B, H)
            if t > 0:
                feed[:active] = d_below
        dWs, dbs = [], []
        for layer in range(L):
            if not need_w:  # the weights are frozen in this phase: skip their gradients
                dWs.append(None)
                dbs.append(None)
                continue
            Gl = torch.cat(G[layer])
            dWs.append(Gl.t() @ torch.cat(X[layer]))
            db = Gl.sum(0)
            if layer == 0:
                db = db - d_first  # the first step's layer 0 used b_first
            dbs.append(db)
        return (dh, dc, None, d_first if need_w else None, *dWs, *dbs)


def decode(z: Tensor, c0: Tensor, lens: list[int], Ws: list[Tensor], bs: list[Tensor], b_first: Tensor) -> Tensor:
    """Top-layer state of every step, (T_max, B, H); differentiable when needed."""
    if torch.is_grad_enabled() and any(t.requires_grad for t in (z, c0, b_first, *Ws, *bs)):
        return DecodeFunction.apply(z, c0, lens, b_first, *Ws, *bs)
    with torch.no_grad():
        outs, _ = decode_steps(z, c0, lens, Ws, bs, b_first)
        return pad_steps(outs, z.shape[1])
