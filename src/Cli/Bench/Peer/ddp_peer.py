#!/usr/bin/env python3
"""The peer of `facecluster bench scaling`: PyTorch's own data-parallel trainer (DistributedDataParallel, gloo, CPU)
on FaceCluster's autoencoder layout (the same convolutions, latent, upscale blocks and one decoder per identity,
per-sample mean absolute error, Adam), one libtorch thread per process (--threads), a fixed random batch per process
(no loader); --device cuda runs it on a GPU (NCCL between processes), the peer of `bench train --device cuda`.

    python3 ddp_peer.py --procs N --batch B --steps S --warmup W --identities K --size 32 \
        --encoder 32,64,128 --latent 128 --bottleneck 128 --decoder 64,32

Prints one line: params=<parameters> samples_per_second=<all processes together>. --procs 1 runs a plain loop
(no DDP): PyTorch eager, the baseline a weak-scaling figure divides by and the peer of `bench train`.
"""
import argparse
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F


class Upscale(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * 4, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        return self.shuffle(F.leaky_relu(self.conv(x), 0.1))


class Autoencoder(nn.Module):
    def __init__(self, size, encoder, latent, bottleneck, decoder, identities):
        super().__init__()
        convs, cin = [], 3
        for c in encoder:
            convs.append(nn.Conv2d(cin, c, 5, stride=2, padding=2))
            cin = c
        self.convs = nn.ModuleList(convs)
        self.code = size >> len(encoder)
        self.bottleneck = bottleneck
        self.to_latent = nn.Linear(cin * self.code * self.code, latent)
        self.from_latent = nn.Linear(latent, bottleneck * self.code * self.code)
        self.upscale = Upscale(bottleneck, bottleneck // 2)
        decoders = []
        for _ in range(identities):
            layers, c = [], bottleneck // 2
            for d in decoder:
                layers.append(Upscale(c, d))
                c = d
            layers.append(nn.Conv2d(c, 3, 5, padding=2))
            decoders.append(nn.Sequential(*layers))
        self.decoders = nn.ModuleList(decoders)

    def forward(self, x, labels):
        target = x
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.1)
        x = self.from_latent(self.to_latent(x.flatten(1))).view(-1, self.bottleneck, self.code, self.code)
        code = self.upscale(x)
        losses = torch.zeros(x.shape[0], device=x.device)
        for d, decoder in enumerate(self.decoders):
            index = (labels == d).nonzero().flatten()
            if index.numel() == 0:
                continue
            decoded = torch.sigmoid(decoder(code.index_select(0, index)))
            losses = losses.index_copy(0, index, (decoded - target.index_select(0, index)).abs().flatten(1).mean(1))
        return losses


def build(args):
    return Autoencoder(args.size, args.encoder, args.latent, args.bottleneck, args.decoder, args.identities)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(rank, args, procs, port, results):
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = torch.device(args.device)
    model = build(args).to(device)
    if procs > 1:
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(port)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=procs)
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-5)
    generator = torch.Generator().manual_seed(100 + rank)
    x = torch.rand(args.batch, 3, args.size, args.size, generator=generator).to(device)
    labels = (torch.arange(args.batch) % args.identities).to(device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        model(x, labels).mean().backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    synchronize(device)
    if procs > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    synchronize(device)
    if procs > 1:
        dist.barrier()
    elapsed = time.perf_counter() - start
    results[rank] = elapsed
    if procs > 1:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ints = lambda text: [int(v) for v in text.split(",") if v]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--procs", type=int, required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--identities", type=int, default=8)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--encoder", type=ints, default=[32, 64, 128])
    parser.add_argument("--latent", type=int, default=128)
    parser.add_argument("--bottleneck", type=int, default=128)
    parser.add_argument("--decoder", type=ints, default=[64, 32])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    params = sum(p.numel() for p in build(args).parameters())
    if args.procs == 1:
        results = {}
        train(0, args, 1, 0, results)
        elapsed = results[0]
    else:
        with mp.Manager() as manager:
            results = manager.dict()
            mp.spawn(train, args=(args, args.procs, free_port(), results), nprocs=args.procs, join=True)
            elapsed = max(results.values())
    print(f"params={params} samples_per_second={args.procs * args.batch * args.steps / elapsed:.3f}")


if __name__ == "__main__":
    sys.exit(main())
