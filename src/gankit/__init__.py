"""gankit: train, evaluate, explore and export generative adversarial networks."""

__version__ = "0.1.0"


def load(path, device="cpu", direction="AB"):
    """Load an exported generator (a run directory or its ``generator/`` folder); ``direction="BA"``
    loads a two-way run's B -> A generator (cyclegan)."""
    from gankit.generator import load as _load

    return _load(path, device, direction)


def export_onnx(run_or_generator, path, direction="AB", opset=17, check=True):
    """Write a run's generator (or a loaded ``Generator``) as an ONNX model with a dynamic batch
    axis, checked against PyTorch in onnxruntime first (``gankit.onnx_export``; needs
    ``pip install 'gankit[export]'``)."""
    from gankit.onnx_export import export_onnx as _export

    return _export(run_or_generator, path, direction, opset, check)


__all__ = ["__version__", "export_onnx", "load"]
