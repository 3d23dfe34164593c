"""Post-hoc logit adjustment: tau chosen on validation moves predictions towards the rare classes."""

import torch

from ganaug.classifier.losses import log_prior
from ganaug.classifier.posthoc import adjusted, choose_tau


def biased_logits(labels, bias, seed):
    """Informative logits (a margin of 1 for the true class) plus a head-class bias the model learnt from the prior."""
    noise = torch.randn(len(labels), 2, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.one_hot(labels, 2).float() + 0.5 * noise + bias


def test_tau_chosen_on_validation_moves_test_predictions_to_the_rare_class():
    prior = log_prior([90, 10])  # class 1 is rare in training
    bias = prior  # a model that learnt the prior (logits + log prior): it favours class 0
    labels = torch.tensor([0] * 50 + [1] * 50)  # balanced validation and test splits
    val, test = biased_logits(labels, bias, 0), biased_logits(labels, bias, 1)
    tau, scores = choose_tau(val, labels, prior, [0.0, 0.5, 1.0, 1.5, 2.0])
    assert tau > 0 and scores[tau] > scores[0.0]  # chosen by validation balanced accuracy
    before, after = test.argmax(1), adjusted(test, prior, tau).argmax(1)
    assert (after == 1).sum() > (before == 1).sum()  # more predictions of the rare class
    assert (after == labels)[labels == 1].float().mean() > (before == labels)[labels == 1].float().mean()
    assert ((before == 1) & (after == 0)).sum() == 0  # the offset only ever moves towards the rare class


def test_adjusted_logits_are_minus_tau_log_prior_and_ties_take_the_smallest_tau():
    prior = log_prior([3, 1])
    logits = torch.tensor([[5.0, -5.0], [-5.0, 5.0]])
    torch.testing.assert_close(adjusted(logits, prior, 0.5), logits - 0.5 * prior)
    tau, scores = choose_tau(logits, torch.tensor([0, 1]), prior, [1.0, 0.0, 0.5])
    assert tau == 0.0 and set(scores.values()) == {1.0}
