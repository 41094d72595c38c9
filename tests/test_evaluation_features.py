import torch

from dpgraph.graphops import prepare_features


def test_rows_are_l1_normalised_without_touching_the_input():
    x = torch.tensor([[1.0, 3.0], [0.0, 0.0], [-2.0, 2.0]])
    before = x.clone()
    out = prepare_features(x, normalize=True)
    assert torch.allclose(out, torch.tensor([[0.25, 0.75], [0.0, 0.0], [-0.5, 0.5]]))
    assert torch.equal(x, before)


def test_each_row_depends_only_on_itself():
    x = torch.rand(5, 3)
    other = x.clone()
    other[1:] *= 100.0
    assert torch.allclose(prepare_features(x, True)[0], prepare_features(other, True)[0])


def test_without_normalisation_returns_a_float_copy():
    x = torch.tensor([[1, 2]])
    out = prepare_features(x, normalize=False)
    assert out.dtype == torch.float32 and torch.equal(out, x.float())
    out[0, 0] = 9.0
    assert x[0, 0] == 1
