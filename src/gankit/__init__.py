"""gankit: train, evaluate, explore and export generative adversarial networks."""

__version__ = "0.1.0"


def load(path, device="cpu"):
    """Load an exported generator (a run directory or its ``generator/`` folder)."""
    from gankit.generator import load as _load

    return _load(path, device)


__all__ = ["__version__", "load"]
