"""GAN families, one module each; importing a module registers its family."""

from gankit.models.base import Family, ModelConfig, Phase

from gankit.models import mlp_gan, dcgan, cgan, infogan, autoencoder  # noqa: E402,F401  isort: skip
from gankit.models import pix2pix, cyclegan, srgan, inpaint, text2image, video  # noqa: E402,F401  isort: skip
from gankit.models import voxel  # noqa: E402,F401  isort: skip
from gankit.models import taggan  # noqa: E402,F401  isort: skip

__all__ = ["Family", "ModelConfig", "Phase"]
