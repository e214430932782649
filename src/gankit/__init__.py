"""gankit: train, evaluate, explore and export generative adversarial networks."""

__version__ = "0.1.0"


def load(path, device="cpu", direction="AB"):
    """Load an exported generator (a run directory or its ``generator/`` folder); ``direction="BA"``
    loads a two-way run's B -> A generator (cyclegan)."""
    from gankit.generator import load as _load

    return _load(path, device, direction)


__all__ = ["__version__", "load"]
