#!/usr/bin/env python3
"""Writes an ImageFolder of synthetic photographs (smooth colour fields with shapes), JPEG, for measuring
input pipelines: make_image_folder.py OUT --images 1000 --classes 10 --width 500 --height 375."""
import argparse
import os
import random

from PIL import Image, ImageDraw, ImageFilter


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # A few distinct backgrounds, varied per image by shapes, keep generation fast and the files photo-sized.
    bases = []
    for _ in range(8):
        small = Image.new("RGB", (8, 6))
        small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(48)])
        bases.append(small.resize((args.width, args.height), Image.BICUBIC))
    for c in range(args.classes):
        os.makedirs(os.path.join(args.out, f"class{c:03d}"), exist_ok=True)
    for i in range(args.images):
        c = i % args.classes
        image = bases[rng.randrange(len(bases))].copy()
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randrange(args.width), rng.randrange(args.height)
            r = rng.randrange(10, 80)
            colour = tuple(rng.randrange(256) for _ in range(3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x - r, y - r, x + r, y + r], fill=colour)
        image = image.filter(ImageFilter.GaussianBlur(1))
        image.save(os.path.join(args.out, f"class{c:03d}", f"{i:06d}.jpg"), quality=args.quality)


if __name__ == "__main__":
    main()
