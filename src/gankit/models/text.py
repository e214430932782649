"""Text for generators that take a sentence: a character alphabet, a text encoder trained here,
and the image encoder it is trained against.

Reed et al. 2016a ("Learning Deep Representations of Fine-Grained Visual Descriptions") train a
character-level text encoder jointly with an image encoder so that a caption scores higher with
its own image than with the others; the text-to-image GAN (Reed et al. 2016b, "Generative
Adversarial Text to Image Synthesis") then conditions on the frozen text embedding. gankit does
the same at digit scale, offline:

- **Characters, not words.** The alphabet is fixed (``ALPHABET``): a-z, 0-9, space and common
  punctuation, and Hangul as jamo (each syllable is decomposed into its initial, medial and final
  letters, Unicode 3.12), so any Korean sentence is spelled with 67 symbols and no vocabulary has
  to be stored or built from the data. Text is NFC-normalised, lower-cased and its whitespace
  collapsed first.
- **Unknown characters** (an emoji, Chinese, Cyrillic ...) become one ``<unk>`` symbol. The
  encoder is trained with ``char_dropout`` of the characters replaced by ``<unk>``, so it reads an
  unknown character as "some character here" and relies on the rest of the caption. A caption made
  of unknown characters only, an empty one, or one longer than ``MAX_CHARS`` is a one-line
  ``ConfigError``.
- **The encoder** is a character CNN (embedding, three width-3 convolutions with dilation 1, 2, 4:
  each position sees 15 symbols, about two words) max-pooled over the caption and projected to a
  unit vector. The image encoder is a small strided CNN to the same space. The matching loss is
  the symmetric cross-entropy of the caption-image similarity matrix of a batch (the form of
  CLIP's loss; Reed et al. 2016a use a structured hinge over classes, which needs labels a user's
  captioned folder does not have).
"""

from __future__ import annotations

import unicodedata

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import ConfigError

MAX_CHARS = 64  # the longest caption, in characters (a Hangul syllable counts as one)
PAD, UNK = 0, 1
_PLAIN = "abcdefghijklmnopqrstuvwxyz0123456789 ,.-'!?&/():;\"+#%"
_INITIALS, _MEDIALS, _FINALS = 19, 21, 27  # Hangul jamo counts (finals: 27 besides "none")
_FIRST_PLAIN = 2
_FIRST_INITIAL = _FIRST_PLAIN + len(_PLAIN)
_FIRST_MEDIAL = _FIRST_INITIAL + _INITIALS
_FIRST_FINAL = _FIRST_MEDIAL + _MEDIALS
VOCAB = _FIRST_FINAL + _FINALS  # symbols, pad and unk included
MAX_TOKENS = 3 * MAX_CHARS  # a syllable spells as at most three jamo
ALPHABET = "a-z, 0-9, space, the punctuation " + _PLAIN[37:] + " and Hangul"
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_PLAIN_INDEX = {c: _FIRST_PLAIN + i for i, c in enumerate(_PLAIN)}


def normalize(text: str) -> str:
    """NFC, lower case, whitespace runs as one space, no leading or trailing space."""
    return " ".join(unicodedata.normalize("NFC", str(text)).lower().split())


def _symbols(ch: str) -> list[int]:
    code = ord(ch)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        s = code - _HANGUL_FIRST
        ini, med, fin = s // (_MEDIALS * 28), (s % (_MEDIALS * 28)) // 28, s % 28
        out = [_FIRST_INITIAL + ini, _FIRST_MEDIAL + med]
        return out + [_FIRST_FINAL + fin - 1] if fin else out
    return [_PLAIN_INDEX.get(ch, UNK)]


def tokenize(text: str) -> list[int]:
    """A caption as symbol ids; a clear error for empty, all-unknown or too-long text."""
    if not isinstance(text, str):
        raise ConfigError(f"text must be a string, got {type(text).__name__}")
    norm = normalize(text)
    if not norm:
        raise ConfigError(
            "text is empty; give a caption such as 'a thick seven leaning right' or '굵은 7'"
        )
    if len(norm) > MAX_CHARS:
        raise ConfigError(
            f"text {_clip(norm)!r} is {len(norm)} characters long; the limit is {MAX_CHARS}"
        )
    ids = [i for ch in norm for i in _symbols(ch)]
    if all(i in (UNK, _PLAIN_INDEX[" "]) for i in ids):
        raise ConfigError(
            f"text {_clip(norm)!r} has no character the text encoder knows; it reads {ALPHABET}"
        )
    return ids


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def encode_texts(texts: list[str]) -> torch.Tensor:
    """Captions as int64 symbol ids ``(N, MAX_TOKENS)``, padded with ``PAD``."""
    out = torch.zeros(len(texts), MAX_TOKENS, dtype=torch.long)
    for i, t in enumerate(texts):
        ids = tokenize(t)
        out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


def trim(tokens: torch.Tensor) -> torch.Tensor:
    """Drop the padding columns every caption of the batch has (the encoder's cost is linear
    in the length)."""
    used = int((tokens != PAD).sum(1).max()) if len(tokens) else 1
    return tokens[:, : max(used, 1)]


class TextEncoder(nn.Module):
    """Symbol ids ``(B, L)`` -> unit text embeddings ``(B, embed_dim)``."""

    def __init__(self, embed_dim: int = 64, channels: int = 64, char_dim: int = 32):
        super().__init__()
        self.chars = nn.Embedding(VOCAB, char_dim, padding_idx=PAD)
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(char_dim, channels, 3, padding=1, dilation=1),
                nn.Conv1d(channels, channels, 3, padding=2, dilation=2),
                nn.Conv1d(channels, channels, 3, padding=4, dilation=4),
            ]
        )
        self.out = nn.Linear(channels, embed_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        # A traced graph (ONNX export) cannot slice to a length read from the data: it keeps
        # every column and zeroes those ``trim`` would drop after each layer instead, which is
        # what the convolutions' zero padding gives the trimmed batch (the same embeddings).
        used = None
        if torch.jit.is_tracing():
            cols = (tokens != PAD).any(0).to(torch.int64)  # (L,) columns some caption uses
            used = (cols.flip(0).cumsum(0).flip(0) > 0).to(torch.float32)  # up to the last one
        else:
            tokens = trim(tokens)
        mask = (tokens != PAD).unsqueeze(1)  # (B, 1, L)
        h = self.chars(tokens).transpose(1, 2)  # (B, char_dim, L)
        if used is not None:
            h = h * used
        for i, conv in enumerate(self.convs):
            h2 = F.relu(conv(h))
            h = h2 + h if i else h2  # residual after the first layer
            if used is not None:
                h = h * used
        # (B, channels): max over the caption; every value is >= 0 (sums of ReLUs), so filling
        # the padding with 0 is exact, and all-padding input (no caption) gives 0, not -inf
        h = h.masked_fill(~mask, 0.0).amax(2)
        return F.normalize(self.out(h), dim=1)


class ImageEncoder(nn.Module):
    """Images ``(B, C, H, W)`` in [-1, 1] -> unit embeddings ``(B, embed_dim)`` (trained only to
    teach the text encoder; not exported)."""

    def __init__(self, shape: tuple[int, ...], embed_dim: int = 64, channels: int = 16):
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(
            nn.Conv2d(c, channels, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * channels, 4 * channels, 3, 1, 1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(4 * channels * 16, 128),
            nn.LeakyReLU(0.2),
            nn.Linear(128, embed_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x), dim=1)


class MatchingModel(nn.Module):
    """Text encoder + image encoder + the learned temperature of their similarity."""

    def __init__(self, shape: tuple[int, ...], embed_dim: int, channels: int):
        super().__init__()
        self.text = TextEncoder(embed_dim, channels)
        self.image = ImageEncoder(shape, embed_dim)
        self.log_scale = nn.Parameter(torch.tensor(2.3))  # similarity x e^2.3 = x10 at the start

    def loss(self, images: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Symmetric cross-entropy of the (caption, image) similarity matrix, and the fraction of
        captions whose own image is the batch's best match."""
        t, v = self.text(tokens), self.image(images)
        logits = self.log_scale.clamp(max=4.6).exp() * t @ v.T  # (B, B)
        target = torch.arange(len(t), device=t.device)
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
        return loss, float((logits.argmax(1) == target).float().mean())


def drop_chars(tokens: torch.Tensor, p: float, generator: torch.Generator | None = None):
    """Replace a fraction ``p`` of the non-space, non-pad symbols by ``UNK`` (what teaches the
    encoder to read unknown characters)."""
    if p <= 0:
        return tokens
    hit = torch.rand(tokens.shape, generator=generator) < p
    keep = (tokens == PAD) | (tokens == _PLAIN_INDEX[" "])
    return torch.where(hit & ~keep, torch.full_like(tokens, UNK), tokens)


def train_matching(
    model: MatchingModel,
    images: torch.Tensor,
    tokens: torch.Tensor,
    steps: int,
    batch_size: int,
    lr: float,
    char_dropout: float,
    seed: int,
) -> dict[str, float]:
    """Train the text and image encoders by the matching loss on (uint8 image, caption) pairs.

    Deterministic for a seed (its own generator; the global RNG is left as it was)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    device = next(model.parameters()).device
    model.train()
    loss, acc, n = torch.zeros(()), 0.0, len(images)
    for _ in range(steps):
        idx = torch.randint(0, n, (min(batch_size, n),), generator=g)
        x = images[idx].to(device).float().div(127.5).sub(1.0)
        tok = drop_chars(tokens[idx], char_dropout, g).to(device)
        loss, acc = model.loss(x, tok)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    return {"matching/loss": float(loss.detach()), "matching/top1": acc}


def frozen_copy_into(target: nn.Module, source: nn.Module) -> None:
    """Copy ``source``'s weights into ``target``, whose weights are buffers (see ``as_buffers``)."""
    with torch.no_grad():
        for (name, b), (sname, p) in zip(
            target.state_dict(keep_vars=True).items(), source.state_dict().items(), strict=True
        ):
            assert name == sname, (name, sname)
            b.copy_(p)


def as_buffers(module: nn.Module) -> nn.Module:
    """Turn every parameter of ``module`` into a buffer of the same name.

    The exported generator holds a frozen copy of the text encoder: as buffers, its weights are
    saved and loaded with the generator's, never updated by G's optimizer, and copied (not
    averaged) into the EMA generator."""
    for m in module.modules():
        for name, p in list(m._parameters.items()):
            if p is not None:
                del m._parameters[name]
                m.register_buffer(name, p.detach().clone())
    return module
