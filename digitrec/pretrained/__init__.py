"""Models that ship with digitrec (safetensors + JSON, see README.md here)."""
