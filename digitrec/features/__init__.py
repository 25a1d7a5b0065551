"""Hand-made image features for the classic (non-torch) models."""
