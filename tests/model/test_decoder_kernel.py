"""The decoder recurrence's hand-written backward (acsumgan.model.decoder_kernel)."""

import torch


def test_decoder_kernel_gradients_gradcheck():
    """The hand-written backward of the decoder recurrence against finite differences."""
    from acsumgan.model.decoder_kernel import DecodeFunction

    torch.manual_seed(3)
    L, B, H = 2, 3, 4
    z = torch.randn(L, B, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(L, B, H, dtype=torch.float64, requires_grad=True)
    Ws = [(0.5 * torch.randn(4 * H, 2 * H, dtype=torch.float64)).requires_grad_() for _ in range(L)]
    bs = [(0.1 * torch.randn(4 * H, dtype=torch.float64)).requires_grad_() for _ in range(L)]
    b_first = (0.1 * torch.randn(4 * H, dtype=torch.float64)).requires_grad_()
    lens = [5, 3, 1]
    assert torch.autograd.gradcheck(
        lambda *a: DecodeFunction.apply(a[0], a[1], lens, a[2], *a[3:]), (z, c0, b_first, *Ws, *bs)
    )
