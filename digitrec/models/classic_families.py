"""Imports the classic (non-torch) model families so that their @register_model lines run."""

from digitrec.models import forest, knn, numpy_mlp, svm  # noqa: F401
