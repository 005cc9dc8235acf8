"""Model selection (method.md section 8) on hand-made curves with known answers."""

import numpy as np
import pytest

from acsumgan.selection import epoch_criterion, label_free_sigma, oracle_sigma, pareto_epochs


def test_release_criterion_known_answer():
    actor = [-4.0, 2.0, 1.0, 3.0]
    reward = [0.5, 0.8, 0.6, 1.0]
    c = epoch_criterion(actor, reward)
    # |a| / 4 = [1, .5, .25, .75]; R / 1 = [.5, .8, .6, 1]
    np.testing.assert_allclose(c.values, [0.0, 0.4, 0.45, 0.25])
    assert c.epoch == 2 and c.normalisation == "release"


def test_ties_go_to_the_earliest_epoch():
    c = epoch_criterion([1.0, 2.0, 1.0], [0.5, 0.9, 0.5])
    assert c.values[0] == c.values[2] and c.epoch == 0


def test_negative_rewards_do_not_flip_the_order():
    # Release's R / max R with a negative max would make -0.9 / -0.1 = 9 the best.
    actor = [1.0, 1.0, 1.0, 2.0]
    reward = [-0.9, -0.1, -0.5, -0.2]
    c = epoch_criterion(actor, reward)
    assert c.normalisation == "min-max"
    # actor factor (1 - 1/2) = .5 for the first three, 0 for the last
    np.testing.assert_allclose(c.values, [0.0, 0.5, 0.5 * 0.4 / 0.8, 0.0])
    assert c.epoch == 1  # the highest reward among equal actor losses


def test_mixed_sign_rewards_use_min_max():
    c = epoch_criterion([1.0, 1.0, 2.0], [-0.2, 0.3, 0.8])
    assert c.normalisation == "min-max"
    np.testing.assert_allclose(c.values, [0.0, 0.5 * 0.5, 0.0])
    assert c.epoch == 1


def test_constant_reward_and_zero_actor_loss():
    c = epoch_criterion([0.0, 0.0], [-1.0, -1.0])
    np.testing.assert_allclose(c.values, [1.0, 1.0])
    assert c.epoch == 0


def test_non_finite_epochs_are_never_chosen():
    c = epoch_criterion([1.0, np.nan, 0.5], [0.5, 1.0, np.inf])
    assert np.isnan(c.values[1]) and np.isnan(c.values[2]) and c.epoch == 0
    with pytest.raises(ValueError):
        epoch_criterion([np.nan], [np.nan])


def test_pareto_front_contains_every_possible_choice():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        a = rng.normal(size=n)
        r = rng.normal(0.3, 0.5, size=n)
        front = pareto_epochs(a, r)
        # whatever epochs come later, the choice among these n is on the front
        for extra in range(3):
            a2 = np.concatenate([a, rng.normal(size=extra)])
            r2 = np.concatenate([r, rng.normal(0.3, 0.5, size=extra)])
            chosen = epoch_criterion(a2, r2).epoch
            if chosen < n:
                assert chosen in front


def test_pareto_known_answer():
    # epoch 1 dominates 0 (lower |a|, higher R); 2 and 1 trade off
    assert pareto_epochs([2.0, 1.0, 0.5], [0.5, 0.8, 0.6]) == [1, 2]


def test_oracle_sigma_best_test_f_ties_to_smaller_sigma():
    assert oracle_sigma({0.1: 40.0, 0.5: 45.0, 0.9: 45.0}) == 0.5


def test_label_free_sigma_on_common_scale():
    runs = {
        0.1: (np.array([4.0, 2.0]), np.array([0.2, 0.3]), 1),
        0.5: (np.array([1.0, 3.0]), np.array([0.9, 0.1]), 0),
        0.9: (np.array([0.5, 4.0]), np.array([0.5, 0.4]), 0),
    }
    # A = 4, R in [0.1, 0.9]: 0.1 -> .5 * .25 = .125; 0.5 -> .75 * 1 = .75; 0.9 -> .875 * .5 = .4375
    assert label_free_sigma(runs) == 0.5
    # negative rewards everywhere still rank by reward
    neg = {s: (a, r - 2.0, e) for s, (a, r, e) in runs.items()}
    assert label_free_sigma(neg) == 0.5
