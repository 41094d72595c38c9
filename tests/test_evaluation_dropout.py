import pytest
import torch

from dpgraph.evaluation.dropout import drop_probability, dropout_relu_, keep_scale


@pytest.mark.parametrize(("p", "q"), [(0.5, 0.5), (0.25, 0.25), (0.9375, 0.9375), (0.1, 6554 / 65536), (0.0, 0.0)])
def test_the_realised_drop_probability_is_p_on_a_grid_of_two_to_the_minus_16(p, q):
    assert drop_probability(p) == q
    keep = keep_scale((400, 500), p, torch.Generator().manual_seed(0))
    assert keep.shape == (400, 500) and keep.dtype == torch.float32
    assert torch.all((keep == 0) | torch.isclose(keep, torch.tensor(1 / (1 - q))))
    dropped = (keep == 0).float().mean().item()
    assert abs(dropped - q) < 4 * (q * (1 - q) / keep.numel()) ** 0.5 + 1e-12


def test_masks_are_independent_across_entries_and_reproducible_from_the_generator():
    keep = keep_scale((200_000,), 0.3, torch.Generator().manual_seed(1))
    assert torch.equal(keep, keep_scale((200_000,), 0.3, torch.Generator().manual_seed(1)))
    assert not torch.equal(keep, keep_scale((200_000,), 0.3, torch.Generator().manual_seed(2)))
    dropped = keep == 0
    both = (dropped[:-1] & dropped[1:]).float().mean().item()  # neighbours share a 64-bit word
    assert abs(both - 0.3**2) < 0.005


def test_inverted_dropout_is_unbiased():
    x = torch.rand(1000, 100, generator=torch.Generator().manual_seed(0)) + 1
    gen = torch.Generator().manual_seed(3)
    mean = torch.stack([x * keep_scale(x.shape, 0.5, gen) for _ in range(20)]).mean(0)
    assert abs((mean / x).mean().item() - 1) < 0.01


def test_a_drop_probability_of_one_is_refused():
    with pytest.raises(ValueError, match="p=1"):
        keep_scale((3,), 1.0, torch.Generator())


def test_fused_dropout_relu_matches_autograd_of_the_plain_ops():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(50, 8, generator=gen, requires_grad=True)
    keep = keep_scale((50, 8), 0.5, gen)
    grad = torch.randn(50, 8, generator=gen)
    expected = (h * keep).relu()
    (expected * grad).sum().backward()
    expected_grad, h.grad = h.grad, None
    fused = dropout_relu_(h.clone(), keep, 0.5)
    (fused * grad).sum().backward()
    assert torch.equal(fused, expected)
    assert torch.allclose(h.grad, expected_grad)
