"""Drawn scenes for the public portal's gate: a street, the same street by night, in rain and in
traffic, a camera knocked aside, and a room (the RT camera taken into a house for repair)."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

W, H = 640, 360


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def street(seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (W, H), (150, 180, 220))
    draw = ImageDraw.Draw(image)
    x, skyline = 0, H * 0.55
    while x < W:
        bw, bh = rng.randint(60, 140), rng.randint(90, 200)
        draw.rectangle((x, skyline - bh, x + bw, skyline), fill=tuple(rng.randint(90, 200) for _ in range(3)),
                       outline=(40, 40, 40))
        for wy in range(int(skyline - bh + 10), int(skyline - 10), 25):
            for wx in range(x + 8, x + bw - 14, 22):
                draw.rectangle((wx, wy, wx + 10, wy + 12), fill=(60, 70, 90))
        x += bw + rng.randint(5, 30)
    draw.polygon([(0, H), (W, H), (W * 0.65, skyline), (W * 0.35, skyline)], fill=(70, 70, 75))
    for i in range(6):
        y = skyline + 8 + i * (H * 0.45 / 6)
        draw.line((W / 2, y, W / 2, y + 14), fill=(240, 240, 240), width=3)
    draw.line((W * 0.35, skyline, 0, H), fill=(220, 220, 220), width=4)
    draw.line((W * 0.65, skyline, W, H), fill=(220, 220, 220), width=4)
    draw.rectangle((W * 0.12, H * 0.2, W * 0.12 + 6, H * 0.9), fill=(50, 50, 50))  # a pole
    return image


def room() -> Image.Image:
    image = Image.new("RGB", (W, H), (210, 190, 170))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, H * 0.7, W, H), fill=(150, 110, 80))
    draw.rectangle((W * 0.1, H * 0.45, W * 0.6, H * 0.8), fill=(230, 230, 240), outline=(90, 90, 90))
    draw.rectangle((W * 0.1, H * 0.38, W * 0.25, H * 0.48), fill=(250, 250, 250))
    draw.rectangle((W * 0.7, H * 0.15, W * 0.9, H * 0.5), fill=(170, 200, 230), outline=(80, 60, 40), width=5)
    draw.line((W * 0.8, H * 0.15, W * 0.8, H * 0.5), fill=(80, 60, 40), width=4)
    return image


def night(image: Image.Image, seed: int = 0) -> Image.Image:
    """An infrared night picture: grey, dark, noisy."""
    grey = ImageEnhance.Brightness(image.convert("L").convert("RGB")).enhance(0.3)
    grain = np.random.default_rng(seed).normal(0, 10, (image.height, image.width, 1))
    noisy = np.asarray(grey, dtype=np.float32) + grain
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def rain(image: Image.Image, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    wet = ImageEnhance.Contrast(image).enhance(0.6)
    draw = ImageDraw.Draw(wet)
    for _ in range(500):
        x, y = rng.randint(0, image.width), rng.randint(0, image.height)
        draw.line((x, y, x - 4, y + 18), fill=(200, 200, 210), width=1)
    return wet.filter(ImageFilter.GaussianBlur(1.2))


def traffic(image: Image.Image, seed: int = 0) -> Image.Image:
    """Cars and people passing in front."""
    rng = random.Random(seed)
    busy = image.copy()
    draw = ImageDraw.Draw(busy)
    for _ in range(4):
        x, y = rng.randint(100, 500), rng.randint(200, 300)
        draw.rectangle((x, y, x + rng.randint(60, 120), y + rng.randint(35, 60)),
                       fill=tuple(rng.randint(0, 255) for _ in range(3)))
    for _ in range(5):
        x, y = rng.randint(0, 600), rng.randint(150, 300)
        draw.rectangle((x, y, x + 12, y + 45), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    return busy


def knocked(image: Image.Image, dx: int) -> Image.Image:
    """The camera turned aside by ``dx`` pixels."""
    return image.transform(image.size, Image.Transform.AFFINE, (1, 0, dx, 0, 1, 0))
