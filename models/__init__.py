"""Whole models of the study notes, each with torch's definition and its twin built
from the package's ``nn`` (``impls.nn``), trained by the ``training`` check kind in
lockstep with torch (20 steps of SGD(lr=0.05, momentum=0.9), float32 and float64).
README, "Add your own model": one file with a ``SPEC`` (nnparity.catalog.ModelSpec),
listed in MODELS."""

from . import (lenet, linear_regression, lstm_tagger, mnist_cnn, mnist_cnn_sequential, mnist_logistic, mymodel,
               rnn_classifier, softmax_classifier)

MODELS = tuple(m.SPEC for m in (mymodel, linear_regression, mnist_logistic, mnist_cnn, mnist_cnn_sequential, lenet,
                                softmax_classifier, lstm_tagger, rnn_classifier))
