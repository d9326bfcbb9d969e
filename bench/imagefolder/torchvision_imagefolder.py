#!/usr/bin/env python3
"""TorchVision's ImageFolder + DataLoader on the pipeline `hetconv data` times: RandomResizedCrop(224), horizontal
flip, ToTensor, Normalize, batches of 64, num_workers=2; images/s over --images images after the first batch, and the
peak resident memory of this process and its workers. Usage: torchvision_imagefolder.py DIR [--images 512]."""
import argparse
import multiprocessing
import resource
import time

import torch
from torchvision import datasets, transforms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    torch.manual_seed(1)
    transform = transforms.Compose([
        transforms.RandomResizedCrop(args.size),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    data = datasets.ImageFolder(args.root, transform)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    timed, start = 0, None
    while timed < args.images:
        for inputs, _ in loader:
            if start is None:
                start = time.perf_counter()
                continue
            timed += inputs.shape[0]
            if timed >= args.images:
                break
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The workers are still alive (persistent): their peaks from /proc.
    workers = [peak_mb(child.pid) for child in multiprocessing.active_children()]
    print(f"torchvision: {timed / seconds:.1f} images/s ({timed} images of {len(data)}, {len(data.classes)} classes, "
          f"batch {args.batch_size}, {args.workers} workers); peak resident memory {own:.0f} MB main + "
          f"{' + '.join(f'{w:.0f}' for w in workers) or '0'} MB workers")


def peak_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
