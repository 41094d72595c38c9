import torch

from dpgraph.evaluation.split import stratified_holdout


def test_holdout_is_stratified_and_skips_unlabelled_nodes():
    y = torch.tensor([0] * 10 + [1] * 20 + [-1] * 5)
    train, val = stratified_holdout(y, 0.3, torch.Generator().manual_seed(0))
    assert not (train & val).any()
    assert torch.equal(train | val, y >= 0)
    assert int(val[y == 0].sum()) == 3 and int(val[y == 1].sum()) == 6


def test_every_class_keeps_a_training_node():
    y = torch.tensor([0, 1, 1])
    train, val = stratified_holdout(y, 0.9, torch.Generator().manual_seed(0))
    assert bool(train[0]) and int(train[1:].sum()) == 1 and int(val.sum()) == 1


def test_same_generator_seed_gives_same_split():
    y = torch.arange(40) % 4
    first = stratified_holdout(y, 0.5, torch.Generator().manual_seed(3))
    second = stratified_holdout(y, 0.5, torch.Generator().manual_seed(3))
    other = stratified_holdout(y, 0.5, torch.Generator().manual_seed(4))
    assert torch.equal(first[1], second[1])
    assert not torch.equal(first[1], other[1])
