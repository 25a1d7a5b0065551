"""Model architectures, chosen by name through one registry."""

from digitrec.models.registry import ModelSpec, create_model, get_spec, model_names

__all__ = ["ModelSpec", "create_model", "get_spec", "model_names"]
