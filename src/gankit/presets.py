"""Known-good starting points. A preset is a partial RunConfig; flags and files override it."""

from __future__ import annotations

from typing import Any

from gankit.config import RunConfig, deep_update, validate
from gankit.errors import ConfigError

DEFAULT_PRESET = "dcgan-mnist"

PRESETS: dict[str, dict[str, Any]] = {
    # The default of `gankit train`: a DCGAN on the 5,000 bundled MNIST digits in about five
    # CPU minutes (2,000 steps). Issue-4 levers, measured in bench/quality (docs/models/dcgan.md):
    # self-conditioning on 50 k-means clusters of the images (G and a projection D see each
    # image's cluster, so G no longer draws the blends between digits), pixel-norm G
    # (batch-independent, so EMA weights need no recomputed BN statistics), Adam at 2e-3, and an
    # EMA of G's weights from step 500. Classifier score about 9.4 (real digits 9.8).
    "dcgan-mnist": {
        "family": "dcgan",
        "data": {"name": "mnist5k"},
        "model": {
            "z_dim": 64,
            "g_channels": 32,
            "d_channels": 32,
            "g_norm": "pixel",
            "clusters": 50,
            "lr": {"G": 2e-3, "D": 2e-3},
        },
        "train": {
            "steps": 2000,
            "batch_size": 64,
            "ema": 0.999,
            "ema_start": 500,
            "sample_every": 250,
            "checkpoint_every": 500,
        },
    },
    # Seed 004's textbook DCGAN (Keras design, Adam defaults, batch 32).
    "dcgan-textbook": {
        "family": "dcgan",
        "data": {"name": "mnist5k"},
        "model": {
            "arch": "textbook",
            "z_dim": 100,
            "lr": {"G": 1e-3, "D": 1e-3},
            "betas": [0.9, 0.999],
        },
        "train": {"steps": 2000, "batch_size": 32},
    },
    # The original GAN on the 8-Gaussian ring.
    "mlp-gan-ring": {
        "family": "mlp-gan",
        "data": {"name": "ring"},
        "model": {"z_dim": 2, "hidden": [128, 128, 128], "lr": {"G": 1e-3, "D": 1e-3}},
        "train": {"steps": 3000, "batch_size": 256, "sample_every": 250, "log_every": 50},
    },
    "mlp-gan-grid": {
        "family": "mlp-gan",
        "data": {"name": "grid"},
        "model": {"z_dim": 2, "hidden": [256, 256, 256], "lr": {"G": 1e-3, "D": 1e-3}},
        "train": {"steps": 4000, "batch_size": 256, "sample_every": 250, "log_every": 50},
    },
    "mlp-gan-mnist": {
        "family": "mlp-gan",
        "data": {"name": "mnist5k"},
        "model": {"z_dim": 64, "hidden": [256, 512], "dropout": 0.3},
        "train": {"steps": 3000, "batch_size": 64},
    },
    # The toy bars (bench/quality/toys.py): a categorical latent with one code per mode and the
    # MGAN diversity term, so that G jumps between modes instead of bridging them; EMA tightens
    # each mode. About 30 s (ring) and 110 s (grid) of CPU on one thread.
    "mgan-ring": {
        "family": "mlp-gan",
        "data": {"name": "ring"},
        "model": {
            "z_dim": 2,
            "hidden": [128, 128, 128],
            "n_components": 8,
            "diversity": 4.0,
            "lr": {"G": 5e-4, "D": 5e-4},
        },
        "train": {
            "steps": 3000,
            "batch_size": 256,
            "ema": 0.995,
            "sample_every": 250,
            "log_every": 50,
        },
    },
    "mgan-grid": {
        "family": "mlp-gan",
        "data": {"name": "grid"},
        "model": {
            "z_dim": 2,
            "hidden": [256, 256, 256],
            "n_components": 25,
            "diversity": 2.0,
            "lr": {"G": 5e-4, "D": 5e-4},
        },
        "train": {
            "steps": 6000,
            "batch_size": 256,
            "ema": 0.995,
            "sample_every": 500,
            "log_every": 50,
        },
    },
    # Self-conditioning on the grid (Liu et al. 2020): 25 k-means clusters of the points label G's
    # code and a projection D, so no mode can be left without a cluster of G's; the learning
    # rates fall linearly to 0 over the last two thirds, which settles each mode's spread.
    # Figures in docs/models/mlp-gan.md (bench/quality/toys.py).
    # The ring by self-conditioning (the grid's recipe with 8 clusters): k-means finds the eight
    # modes in the data, G and a projection D see each sample's cluster, so no mode can be left
    # out whatever the seed or the floating-point path (bench/quality/robust.py).
    "selfcond-ring": {
        "family": "mlp-gan",
        "data": {"name": "ring"},
        "model": {
            "z_dim": 2,
            "hidden": [128, 128, 128],
            "clusters": 8,
            "lr": {"G": 5e-4, "D": 5e-4},
        },
        "train": {
            "steps": 3000,
            "batch_size": 256,
            "ema": 0.995,
            "lr_decay_start": 1 / 3,
            "sample_every": 250,
            "log_every": 50,
        },
    },
    "selfcond-grid": {
        "family": "mlp-gan",
        "data": {"name": "grid"},
        "model": {
            "z_dim": 2,
            "hidden": [128, 128, 128],
            "d_hidden": [256, 256, 256],  # D must see each mode's spread (sigma 0.05) in 8 x 8
            "clusters": 25,
            "lr": {"G": 5e-4, "D": 5e-4},
        },
        "train": {
            "steps": 6000,
            "batch_size": 256,
            "ema": 0.995,
            "lr_decay_start": 1 / 3,  # from step 2,000 of 6,000; follows --steps
            "sample_every": 500,
            "log_every": 50,
        },
    },
    # Stacked MNIST (1,000 modes; bench/quality/stacked.py): the digit DCGAN on 3 channels,
    # self-conditioned on 1,000 clusters, batch 128, Adam 5e-3, EMA 0.995: 1,000 modes and KL
    # 0.0998 / 0.0850 / 0.0809 / 0.0778 after 6,000 steps with seeds 0 / 1 / 2 / 3; the other
    # settings measured are in docs/models/dcgan.md.
    "dcgan-stacked-mnist": {
        "family": "dcgan",
        "data": {"name": "stacked-mnist"},
        "model": {
            "z_dim": 64,
            "g_channels": 32,
            "d_channels": 32,
            "g_norm": "pixel",
            "clusters": 1000,
            "lr": {"G": 5e-3, "D": 5e-3},
        },
        "train": {
            "steps": 6000,
            "batch_size": 128,  # one D update on 128 beats two on 64 (the card)
            "ema": 0.995,
            "ema_start": 500,
            "sample_every": 500,
        },
    },
    # Class-conditional DCGAN with a projection discriminator (bench/quality/digits.py): label
    # accuracy 0.98 and TSTR 0.95 after 3,000 steps (about 8 CPU-minutes on one thread).
    "cgan-mnist": {
        "family": "cgan",
        "data": {"name": "mnist5k"},
        "model": {
            "z_dim": 64,
            "g_channels": 32,
            "d_channels": 32,
            "g_norm": "pixel",
            "conditioning": "projection",
            "lr": {"G": 1e-3, "D": 1e-3},
        },
        "train": {
            "steps": 3000,
            "batch_size": 64,
            "ema": 0.999,
            "ema_start": 500,
            "sample_every": 500,
        },
    },
    # InfoGAN with 10 categorical + 2 continuous codes (bench/quality/digits.py) on the paper's
    # MNIST networks. A small z and shifted inputs for D and Q make the codes change the digit's
    # shape; code accuracy on held-out digits 0.957 after 11,000 steps (62 CPU-minutes on one
    # thread; docs/models/infogan.md).
    "infogan-mnist": {
        "family": "infogan",
        "data": {"name": "mnist5k"},
        "model": {
            "arch": "infogan",
            "z_dim": 16,
            "diffaugment": "translation",
            "lr": {"G": 1e-3, "D": 2e-4, "Q": 1e-3},
        },
        "train": {"steps": 11000, "batch_size": 64, "sample_every": 500},
    },
    # The non-adversarial baselines on the same digits.
    "autoencoder-mnist": {
        "family": "autoencoder",
        "data": {"name": "mnist5k"},
        "model": {"z_dim": 16, "g_channels": 32, "e_channels": 32},
        "train": {"steps": 3000, "batch_size": 64, "sample_every": 500},
    },
    "vae-mnist": {
        "family": "vae",
        "data": {"name": "mnist5k"},
        "model": {"z_dim": 16, "g_channels": 32, "e_channels": 32},
        "train": {"steps": 3000, "batch_size": 64, "sample_every": 500},
    },
}
# Longer (3,500 steps, about 9 CPU-minutes on one thread) with the mode-seeking term, which
# trades a little precision for recall: score 9.4, FID 17 instead of 21, recall 0.76 not 0.67.
PRESETS["dcgan-mnist-long"] = deep_update(
    PRESETS["dcgan-mnist"],
    {"model": {"mode_seeking": 0.5}, "train": {"steps": 3500, "sample_every": 500}},
)

# pix2pix on paired data (docs/models/pix2pix.md): the paper's U-Net and PatchGAN, Adam 2e-4 /
# β1 0.5, narrower networks than the paper's 256 px ones for a CPU. On digits D sees the whole
# image and λ_L1 = 10 (measured against the paper's 70 px patches and λ = 100 on the card).
PRESETS["pix2pix-edges2digits"] = {
    "family": "pix2pix",
    "data": {"name": "edges2digits"},
    "model": {
        "g_channels": 32,
        "g_max_channels": 256,
        "depth": 4,
        "d_channels": 32,
        "receptive_field": 34,  # the whole 28 px image: a digit's identity is global
        "l1": 10.0,  # the paper's 100 leaves the GAN term too little say on digits
    },
    "train": {"steps": 2000, "batch_size": 32, "sample_every": 250, "grid_size": 30},
}
PRESETS["pix2pix-edges2photos"] = {
    "family": "pix2pix",
    "data": {"name": "edges2photos", "image_size": 64, "flip": True},
    "model": {"g_channels": 32, "g_max_channels": 256, "d_channels": 32, "receptive_field": 34},
    "train": {"steps": 3000, "batch_size": 16, "sample_every": 250, "grid_size": 24},
}
# A user's pairs (A|B files, A/ + B/, or data.path_a + data.path_b): the paper's settings
# (70 px patches, λ = 100, pairs flipped together) at 64 px and half the paper's width.
PRESETS["pix2pix-pairs"] = {
    "family": "pix2pix",
    "data": {"name": "paired", "image_size": 64, "flip": True},
    "model": {"g_channels": 32, "g_max_channels": 256, "d_channels": 32},
    "train": {"steps": 4000, "batch_size": 16, "sample_every": 250, "grid_size": 24},
}

# Super-resolution ×4 (docs/models/srgan.md): an SRResNet of 6 residual blocks at 32 channels that
# predicts the difference to bicubic, L1 pixel loss, Adam 5e-4 / β1 0.9. The `srgan-*` presets
# run the `srresnet-*` preset's steps as their pixel-loss warm-up (the same generator, bit for
# bit), then fine-tune for 500 steps against a PatchGAN with D-feature matching as the content
# loss. About 8 (digits) to 10 (photos) CPU-minutes on one thread.
_SR_MODEL = {
    "scale": 4,
    "g_channels": 32,
    "blocks": 6,
    "d_channels": 32,
    "lr": {"G": 5e-4, "D": 2e-4},
    "betas": [0.9, 0.999],
}
PRESETS["srresnet-photos"] = {
    "family": "srgan",
    "data": {"name": "photos", "image_size": 64, "flip": True},
    "model": {**_SR_MODEL, "receptive_field": 34, "gan_weight": 0.0},
    "train": {"steps": 1500, "batch_size": 16, "sample_every": 250, "grid_size": 24},
}
PRESETS["srgan-photos"] = deep_update(
    PRESETS["srresnet-photos"],
    {"model": {"gan_weight": 1e-2, "warmup_steps": 1500}, "train": {"steps": 2000}},
)
PRESETS["srresnet-textures"] = deep_update(
    PRESETS["srresnet-photos"], {"data": {"name": "textures"}}
)
PRESETS["srgan-textures"] = deep_update(PRESETS["srgan-photos"], {"data": {"name": "textures"}})
PRESETS["srgan-images"] = deep_update(PRESETS["srgan-photos"], {"data": {"name": "folder"}})
# Digits 7×7 -> 28×28: D sees the whole digit (34 px), batch 64.
PRESETS["srresnet-mnist"] = {
    "family": "srgan",
    "data": {"name": "mnist5k"},
    "model": {**_SR_MODEL, "receptive_field": 34, "gan_weight": 0.0},
    "train": {"steps": 1500, "batch_size": 64, "sample_every": 250, "grid_size": 30},
}
# On digits the D-feature term measured no better than L1 + adversarial alone (the card), so
# the digit preset leaves it out.
PRESETS["srgan-mnist"] = deep_update(
    PRESETS["srresnet-mnist"],
    {
        "model": {"gan_weight": 1e-2, "warmup_steps": 1500, "content": "none"},
        "train": {"steps": 2000},
    },
)
# CycleGAN on unpaired data (docs/models/cyclegan.md): the paper's ResNet G, PatchGAN Ds,
# least-squares loss, 50-image pools, Adam 2e-4 / β1 0.5 decaying linearly to 0 over the second
# half (λ_cycle = 10 and identity 0.5 for photos; the digits preset differs, below); networks
# scaled down for 28 px digits on a CPU (16 channels, two stride-2 levels to 7×7, three residual
# blocks; D sees the whole digit).
PRESETS["cyclegan-digits2mnist"] = {
    "family": "cyclegan",
    "data": {"name": "digits2mnist"},
    # λ_cycle 20 and no identity loss: each raised label preservation (docs/models/cyclegan.md)
    "model": {
        "g_channels": 16,
        "n_blocks": 3,
        "d_channels": 32,
        "receptive_field": 34,
        "cycle": 20.0,
        "identity": 0.0,
    },
    "train": {
        "steps": 1200,
        "batch_size": 16,
        "lr_decay_start": 0.5,
        "sample_every": 250,
        "checkpoint_every": 500,
        "grid_size": 20,
    },
}
PRESETS["cyclegan-photo2cartoon"] = {
    "family": "cyclegan",
    "data": {"name": "photo2cartoon", "image_size": 64, "flip": True},
    "model": {"g_channels": 16, "n_blocks": 4, "d_channels": 32, "receptive_field": 34},
    "train": {
        "steps": 1000,
        "batch_size": 4,
        "lr_decay_start": 0.5,
        "sample_every": 250,
        "checkpoint_every": 500,
        "grid_size": 12,
    },
}
# A user's two folders (data.path_a + data.path_b, or A/ + B/): 64 px, 70 px patches, six
# residual blocks (the paper's choice below 256 px) at half the paper's width.
PRESETS["cyclegan-folders"] = {
    "family": "cyclegan",
    "data": {"name": "unpaired", "image_size": 64, "flip": True},
    "model": {"g_channels": 32, "n_blocks": 6, "d_channels": 32},
    "train": {
        "steps": 6000,
        "batch_size": 4,
        "lr_decay_start": 0.5,
        "sample_every": 250,
        "grid_size": 12,
    },
}
# Inpainting (docs/models/inpaint.md): gated-convolution G, SN-PatchGAN D with the hinge loss,
# λ_L1 = 10 over the hole. Digits: the held-out digits' 14×14 centre hole (Context Encoders'
# central region); photos: 64 px crops with a 24 px centre hole; a user's folder: boxes and
# free-form strokes mixed, the masks people draw.
PRESETS["inpaint-digits"] = {
    "family": "inpaint",
    "data": {"name": "mnist5k", "masks": "centre", "hole": 14},
    "model": {
        "g_channels": 16,
        "d_channels": 32,
        "dilations": [2, 4],
        "lr": {"G": 5e-4, "D": 5e-4},
    },
    "train": {"steps": 2000, "batch_size": 32, "sample_every": 250, "grid_size": 30},
}
PRESETS["inpaint-photos"] = {
    "family": "inpaint",
    "data": {"name": "photos", "image_size": 64, "flip": True, "masks": "centre", "hole": 24},
    "model": {"g_channels": 16, "d_channels": 32, "coarse": True, "lr": {"G": 5e-4, "D": 5e-4}},
    "train": {"steps": 1200, "batch_size": 8, "sample_every": 200, "grid_size": 24},
}
PRESETS["inpaint-folder"] = {
    "family": "inpaint",
    "data": {"name": "folder", "image_size": 64, "flip": True, "masks": "boxes,strokes"},
    "model": {"g_channels": 16, "d_channels": 32, "lr": {"G": 5e-4, "D": 5e-4}},
    "train": {"steps": 3000, "batch_size": 16, "sample_every": 250, "grid_size": 24},
}
# Text to image (docs/models/text2image.md): GAN-CLS + GAN-INT on the cGAN preset's networks, the
# character-level text encoder trained first for 1,000 matching-loss steps, then frozen. Held-out
# captions after 2,000 steps (9.5 CPU-min): named digit 0.99 (English and Korean), thickness 0.86,
# slant 0.91-0.93; on the held-out attribute combinations 0.82-0.87.
PRESETS["text2image-digits"] = {
    "family": "text2image",
    "data": {"name": "digit-captions"},
    "model": {
        "z_dim": 64,
        "g_channels": 32,
        "d_channels": 32,
        "g_norm": "pixel",
        "lr": {"G": 1e-3, "D": 1e-3},
    },
    "train": {
        "steps": 2000,
        "batch_size": 64,
        "ema": 0.999,
        "ema_start": 500,
        "sample_every": 250,
        "grid_size": 40,
    },
}
# A user's folder of captioned images, read at 64 px.
PRESETS["text2image-folder"] = deep_update(
    PRESETS["text2image-digits"],
    {"data": {"name": "captioned", "image_size": 64}, "train": {"steps": 3000}},
)
# Next-frame prediction on Moving MNIST (docs/models/video.md): Mathieu et al.'s three-scale G
# and D at a CPU width, their loss weights (λ_adv 0.05, λ_p 1 with p = 2, λ_gdl 1 with α = 1).
# G moves the last frame by a 7×7 motion kernel it predicts, then corrects it (model.motion), and
# its pixel losses follow its own 3-frame rollouts (data.future).
PRESETS["video-moving-mnist"] = {
    "family": "video",
    "data": {"name": "moving-mnist", "digits": 1, "context": 4, "future": 3},
    "model": {
        "scales": 3,
        "g_channels": 32,
        "d_channels": 16,
        "motion": 7,
        "lr": {"G": 1e-3, "D": 2e-4},
    },
    "train": {"steps": 1000, "batch_size": 16, "sample_every": 250, "grid_size": 8},
}
# A user's folder of short videos: the same networks.
PRESETS["video-folder"] = deep_update(
    PRESETS["video-moving-mnist"], {"data": {"name": "videos", "digits": 1}}
)

# 3-D shapes (docs/models/voxel-gan.md): 3D-GAN and 3D-VAE-GAN on the procedural 32³ shapes at a
# CPU width (16 channels at 16³), the paper's adaptive D update (D trains only while its batch
# accuracy is below 0.8) and Adam β1 0.5. voxel-gan is self-conditioned on 24 k-means clusters of
# the grids (without them it drops whole classes: 4 of 6 at 900 steps).
PRESETS["voxel-gan-shapes"] = {
    "family": "voxel-gan",
    "data": {"name": "shapes"},
    "model": {
        "z_dim": 64,
        "g_channels": 16,
        "d_channels": 16,
        "clusters": 24,
        "lr": {"G": 1e-3, "D": 1e-3},
    },
    "train": {
        "steps": 900,
        "batch_size": 32,
        "sample_every": 100,
        "checkpoint_every": 300,
        "grid_size": 36,
    },
}
PRESETS["voxel-vae-gan-shapes"] = {
    "family": "voxel-vae-gan",
    "data": {"name": "shapes"},
    "model": {
        "z_dim": 64,
        "g_channels": 16,
        "d_channels": 16,
        "e_channels": 32,
        "lr": {"G": 1e-3, "D": 1e-3},
    },
    # 1,600 steps, the learning rates decaying to 0 over the last 500: image -> shape IoU 0.562 on
    # held-out views (700 steps at a constant rate: 0.508, below the nearest neighbour's 0.524)
    "train": {
        "steps": 1600,
        "lr_decay_start": 0.6875,  # step 1,100 of 1,600
        "batch_size": 32,
        "sample_every": 100,
        "checkpoint_every": 350,
        "grid_size": 24,
    },
}
# Characters drawn to order from tags (docs/models/tag-gan.md): Jin et al.'s noise + tag vector G
# and a D with a multi-label tag classifier head, on DCGAN's networks at 32 px. Tag weight 10:
# the tag loss is a mean over the 21 tags, so at weight 1 each tag's term is 1/21 of the
# adversarial one and G draws hats and glasses by the noise, not the tags.
PRESETS["tag-characters"] = {
    "family": "tag-gan",
    "data": {"name": "characters"},
    "model": {
        "z_dim": 64,
        "g_channels": 32,
        "d_channels": 32,
        "g_norm": "pixel",
        "lr": {"G": 1e-3, "D": 1e-3},
        "tag_weight": 10.0,
    },
    "train": {
        "steps": 2000,
        "batch_size": 64,
        "ema": 0.999,
        "ema_start": 500,
        "sample_every": 250,
        "grid_size": 40,
    },
}
# A user's folder (`gankit train --data ./folder`): one preset per image-count tier, chosen with
# the training size and width by gankit.folder_presets (docs/models/folder.md, bench/quality/
# faces.py). The limited-data levers: DiffAugment (translation, colour, cutout), an EMA of G, the
# R1 penalty on a D without batch norm, a pixel-norm G and no clusters; a tenth of the images
# held out for the memorisation check.
_FOLDER_BASE: dict[str, Any] = {
    "family": "dcgan",
    "data": {"name": "folder", "image_size": 32, "holdout": 2},
    "model": {
        "z_dim": 64,
        "g_channels": 16,
        "d_channels": 16,
        "g_norm": "pixel",
        "d_batchnorm": False,
        "r1": 0.2,
        "diffaugment": "translation,color,cutout",
        "lr": {"G": 1e-3, "D": 1e-3},
    },
    "train": {
        "steps": 2000,
        "batch_size": 32,
        "ema": 0.999,
        "ema_start": 200,
        "sample_every": 250,
        "checkpoint_every": 500,
    },
}
PRESETS["dcgan-folder-tens"] = _FOLDER_BASE
PRESETS["dcgan-folder-hundreds"] = deep_update(_FOLDER_BASE, {"train": {"steps": 3000}})
# translation alone let G collapse on 2,400 photo crops (G's FID 41.7, recall 0.08 at 500 steps)
# where the full policy did not (13.1, 0.48): every tier keeps all three.
PRESETS["dcgan-folder-thousands"] = deep_update(
    _FOLDER_BASE, {"train": {"steps": 4000, "batch_size": 64}}
)
# The 100 LFW faces of scikit-image (75 train, 25 held out): the tens preset at 32 px.
PRESETS["dcgan-faces"] = deep_update(
    _FOLDER_BASE, {"data": {"name": "faces", "image_size": 32, "holdout": 0}}
)

# What `gankit train FAMILY [--data D]` starts from when no preset or config file is named:
# the family's preset for 2-D toy data when D is a toy, else its image preset.
FAMILY_DEFAULT_PRESET = {
    "dcgan": "dcgan-mnist",
    "mlp-gan": "mlp-gan-mnist",
    "cgan": "cgan-mnist",
    "infogan": "infogan-mnist",
    "autoencoder": "autoencoder-mnist",
    "vae": "vae-mnist",
    "pix2pix": "pix2pix-edges2digits",
    "srgan": "srgan-photos",
    "cyclegan": "cyclegan-digits2mnist",
    "inpaint": "inpaint-digits",
    "text2image": "text2image-digits",
    "video": "video-moving-mnist",
    "voxel-gan": "voxel-gan-shapes",
    "voxel-vae-gan": "voxel-vae-gan-shapes",
    "tag-gan": "tag-characters",
}
# A family's preset for one of its other bundled datasets, or for a user's folder.
DATA_DEFAULT_PRESET = {
    ("pix2pix", "edges2photos"): "pix2pix-edges2photos",
    ("pix2pix", "folder"): "pix2pix-pairs",
    ("pix2pix", "paired"): "pix2pix-pairs",
    ("srgan", "textures"): "srgan-textures",
    ("srgan", "mnist5k"): "srgan-mnist",
    ("srgan", "folder"): "srgan-images",
    ("cyclegan", "photo2cartoon"): "cyclegan-photo2cartoon",
    ("cyclegan", "folder"): "cyclegan-folders",
    ("cyclegan", "paired"): "cyclegan-folders",
    ("cyclegan", "unpaired"): "cyclegan-folders",
    ("inpaint", "photos"): "inpaint-photos",
    ("inpaint", "folder"): "inpaint-folder",
    ("text2image", "folder"): "text2image-folder",
    ("text2image", "captioned"): "text2image-folder",
    ("video", "folder"): "video-folder",
    ("video", "videos"): "video-folder",
    (None, "characters"): "tag-characters",
    (None, "faces"): "dcgan-faces",
    ("dcgan", "faces"): "dcgan-faces",
}
# Families whose `--data ./folder` preset is chosen by the folder's size (gankit.folder_presets).
FOLDER_PRESET_FAMILIES = (None, "dcgan")
# For 2-D toy data: `gankit train --data ring|grid` takes the preset that reaches the toy bars
# (self-conditioning on both: the seeds' counts are in docs/models/mlp-gan.md, from
# bench/quality/robust.py); `gankit train mlp-gan --data grid` the plain GAN of the seeds,
# collapse and all.
TOY_DEFAULT_PRESET: dict[str | None, dict[str, str]] = {
    None: {"ring": "selfcond-ring", "grid": "selfcond-grid", "swissroll": "mlp-gan-ring"},
    "mlp-gan": {"ring": "mlp-gan-ring", "grid": "mlp-gan-grid", "swissroll": "mlp-gan-ring"},
}
TOY_DATASETS = ("ring", "grid", "swissroll")


def resolve(
    family: str | None = None,
    preset: str | None = None,
    file_cfg: dict | None = None,
    flags: dict | None = None,
    overrides: list[dict] | None = None,
    notes: list[str] | None = None,
) -> RunConfig:
    """preset -> config file -> flags -> ``--set`` overrides, validated, family config included.

    ``notes``, when given, gains a line saying why a preset was chosen for a user's folder."""
    from gankit.registry import MODELS

    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of: {', '.join(sorted(PRESETS))}")
    raw: dict[str, Any] = {}
    if family is not None:
        MODELS.get(family)  # unknown family: one clear line listing the valid ones
    if preset is None and not file_cfg:
        data = (flags or {}).get("data", {}).get("name")
        if any(
            "path_a" in o.get("data", {}) or "path_b" in o.get("data", {}) for o in overrides or []
        ):
            data = "paired"
        if data == "folder" and family in FOLDER_PRESET_FAMILIES:
            from gankit.folder_presets import choose_folder_preset

            folder = (flags or {})["data"]
            choice = choose_folder_preset(folder.get("path"), folder.get("image_size"))
            preset = choice.preset
            raw = deep_update(PRESETS[preset], choice.overrides())
            if notes is not None:
                notes.append(choice.reason())
        elif data in TOY_DATASETS:
            preset = TOY_DEFAULT_PRESET.get(family, {}).get(data)
        elif (family, data) in DATA_DEFAULT_PRESET:
            preset = DATA_DEFAULT_PRESET[family, data]
        else:
            preset = FAMILY_DEFAULT_PRESET.get(family or "dcgan")
    if preset:
        raw = deep_update(PRESETS[preset], raw)
        raw["preset"] = preset
    if file_cfg:
        raw = deep_update(raw, file_cfg)
    if family is not None and raw.get("family") not in (None, family):
        # A family that differs from the preset's keeps only the preset's data and training.
        raw = {k: v for k, v in raw.items() if k not in ("model", "preset")}
    if family is not None:
        raw["family"] = family
    raw = deep_update(raw, flags or {})
    for o in overrides or []:
        raw = deep_update(raw, o)
    cfg = validate(RunConfig, raw)
    family_cls = MODELS.get(cfg.family)
    if cfg.data.name == "folder" and family_cls.folder_dataset != "folder":
        # a user's folder, read the way this family needs (pix2pix: A|B pairs)
        cfg = cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"name": family_cls.folder_dataset})}
        )
    if cfg.data.name == "paired" and family_cls.two_folder_dataset != "paired":
        # data.path_a + path_b, read the way this family needs (cyclegan: two unpaired domains)
        cfg = cfg.model_copy(
            update={"data": cfg.data.model_copy(update={"name": family_cls.two_folder_dataset})}
        )
    model_cfg = validate(family_cls.Config, cfg.model, "model")
    return cfg.model_copy(update={"model": model_cfg.model_dump(mode="json")})
