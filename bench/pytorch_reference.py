#!/usr/bin/env python3
"""PyTorch reference for `lethe bench`: the same architectures, operations, batches and threads,
printed as the same JSON lines, so the two join on (model, op, batch).

    python bench/pytorch_reference.py --data-dir ../shared/data [--model resnet20 --model vit-tiny]
        [--op train-step ...] [--threads 2] [--repeats 10] [--warmup 2]

Needs PyTorch 2.x and NumPy (`pip install torch numpy`; CPU is enough). Kept out of CI and of
the default set-up: this is a benchmark, not a dependency.

Architectures mirror `lethe_shared::model`: the CIFAR ResNet-20 (3×3 stem, no max-pool, basic
blocks, 1×1 conv + BN shortcuts when the shape changes, bias-free convs) and SimpleViT tiny
(patch 4 conv, fixed 2-D sin-cos position embedding, pre-LN blocks with LN eps 1e-6, GELU MLP,
mean pooling, zero-initialised head). Operations mirror `trainer/src/bench.rs`:
  train-step       forward + cross-entropy + backward + Adam (lr 1e-3), every parameter trainable
  lora-step        the same, base frozen, rank-8 adapters (α 16, no dropout) on every conv/linear
  infer            forward only, under torch.inference_mode()
  prunelora-epoch  50 % structured L2 pruning (ResNet: every conv; ViT: last attention output
                   projection and head), LoRA on the preset layers (ResNet block convs r 8 α 16
                   + trainable head; ViT last out-proj + head r 16 α 32), dropout 0.1, then one
                   Adam epoch over the first N retained images (class 3 forgotten)
  ft-epoch         one Adam epoch over the same images, every parameter trainable
Epoch operations start from random weights here (Lethe starts from its shipped originals): the
time of an epoch does not depend on the weights' values.

FLOPs: the counts of `lethe_shared::model::flops` (2 per MAC of convs, linears and attention
matmuls): resnet20 81,626,368 and vit-tiny 246,550,272 per image forward; a training step counts
3 × forward, a LoRA step and a PruneLoRA epoch 2 ×.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FORWARD_FLOPS = {"resnet20": 81_626_368, "vit-tiny": 246_550_272}
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


# --- models ---------------------------------------------------------------------------------

class ConvBn(nn.Module):
    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        self.layers = nn.ModuleList([ConvBn(cin, width, 3, stride), ConvBn(width, width, 3, 1)])
        self.shortcut = ConvBn(cin, width, 1, stride) if stride != 1 or cin != width else None

    def forward(self, x):
        out = self.layers[1](F.relu(self.layers[0](x)))
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet20(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = ConvBn(3, 16, 3, 1)
        blocks, cin = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for index in range(3):
                blocks.append(BasicBlock(cin, width, 2 if stage > 0 and index == 0 else 1))
                cin = width
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=(2, 3)))


def sincos_2d(side, dim, temperature=10_000.0):
    y, x = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    omega = 1.0 / temperature ** (torch.arange(dim // 4) / (dim // 4 - 1))
    y = y.flatten()[:, None] * omega[None, :]
    x = x.flatten()[:, None] * omega[None, :]
    return torch.cat((x.sin(), x.cos(), y.sin(), y.cos()), dim=1).float()


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):
        batch, length, dim = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dim // self.heads)
        mixed = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, dim)
        return self.out_proj(mixed)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim, eps=1e-6)
        self.attention = Attention(dim, heads)
        self.mlp_norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_in = nn.Linear(dim, mlp_dim)
        self.mlp_out = nn.Linear(mlp_dim, dim)

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_norm(x))))


class SimpleVit(nn.Module):
    def __init__(self, image=32, patch=4, dim=192, depth=6, heads=3, mlp_dim=384, num_classes=10):
        super().__init__()
        self.patch_embedding = nn.Conv2d(3, dim, patch, patch)
        self.register_buffer("position", sincos_2d(image // patch, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        x = self.patch_embedding(x).flatten(2).transpose(1, 2) + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))


def build(model):
    return ResNet20() if model == "resnet20" else SimpleVit()


# --- LoRA and pruning -----------------------------------------------------------------------

class LoraConv(nn.Module):
    def __init__(self, base, rank, alpha, dropout):
        super().__init__()
        self.base, self.scale, self.dropout = base, alpha / rank, nn.Dropout(dropout)
        self.a = nn.Conv2d(base.in_channels, rank, base.kernel_size, base.stride, base.padding, bias=False)
        self.b = nn.Conv2d(rank, base.out_channels, 1, bias=False)
        nn.init.kaiming_uniform_(self.a.weight, a=math.sqrt(5))
        nn.init.zeros_(self.b.weight)

    def forward(self, x):
        return self.base(x) + self.scale * self.b(self.a(self.dropout(x)))


class LoraLinear(nn.Module):
    def __init__(self, base, rank, alpha, dropout):
        super().__init__()
        self.base, self.scale, self.dropout = base, alpha / rank, nn.Dropout(dropout)
        self.a = nn.Linear(base.in_features, rank, bias=False)
        self.b = nn.Linear(rank, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.a.weight, a=math.sqrt(5))
        nn.init.zeros_(self.b.weight)

    def forward(self, x):
        return self.base(x) + self.scale * self.b(self.a(self.dropout(x)))


def named_layers(model):
    """(name, parent, attribute, module) of every conv/linear Lethe can adapt, with Lethe's names."""
    found = []
    if isinstance(model, ResNet20):
        found.append(("stem", model.stem, "conv", model.stem.conv))
        for i, block in enumerate(model.blocks):
            for j, layer in enumerate(block.layers):
                found.append((f"blocks.{i}.layers.{j}", layer, "conv", layer.conv))
            if block.shortcut is not None:
                found.append((f"blocks.{i}.shortcut", block.shortcut, "conv", block.shortcut.conv))
    else:
        for i, block in enumerate(model.blocks):
            found.append((f"blocks.{i}.attention.qkv", block.attention, "qkv", block.attention.qkv))
            found.append((f"blocks.{i}.attention.out_proj", block.attention, "out_proj", block.attention.out_proj))
            found.append((f"blocks.{i}.mlp_in", block, "mlp_in", block.mlp_in))
            found.append((f"blocks.{i}.mlp_out", block, "mlp_out", block.mlp_out))
    found.append(("head", model, "head", model.head))
    return found


def attach_lora(model, select, rank, alpha, dropout):
    for name, parent, attribute, module in named_layers(model):
        if select(name):
            wrapper = LoraConv if isinstance(module, nn.Conv2d) else LoraLinear
            setattr(parent, attribute, wrapper(module, rank, alpha, dropout))


def prune_l2(model, select, amount=0.5):
    with torch.no_grad():
        for name, _, _, module in named_layers(model):
            if select(name):
                norms = module.weight.reshape(module.weight.shape[0], -1).norm(dim=1)
                dead = norms.argsort()[: round(amount * norms.numel())]
                module.weight[dead] = 0


# --- data -----------------------------------------------------------------------------------

def load_cifar_train(data_dir):
    """The 50,000 training images as uint8 `[n, 3, 32, 32]` (normalised per batch, as Lethe does)."""
    folder = Path(data_dir) / "cifar-10-batches-bin"
    records = np.concatenate([
        np.fromfile(folder / f"data_batch_{i}.bin", dtype=np.uint8).reshape(-1, 3073) for i in range(1, 6)
    ])
    labels = torch.from_numpy(records[:, 0].astype(np.int64))
    images = torch.from_numpy(np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32))
    return images, labels


MEAN = torch.tensor(CIFAR_MEAN).reshape(1, 3, 1, 1)
STD = torch.tensor(CIFAR_STD).reshape(1, 3, 1, 1)


def normalize(pixels):
    return (pixels.float() / 255.0 - MEAN) / STD


# --- measurement ----------------------------------------------------------------------------

def reset_peak_rss():
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb():
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        return None
    return None


def timed(call, warmup, repeats):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1e3)
    return times


def row(model, op, batch, times, passes, peak=None):
    median = statistics.median(times)
    images_per_s = batch / (median / 1e3)
    return {
        "model": model, "op": op, "batch": batch, "median_ms": median, "min_ms": min(times),
        "max_ms": max(times), "images_per_s": images_per_s,
        "achieved_gflop_s": passes * FORWARD_FLOPS[model] * images_per_s / 1e9,
        "peak_rss_mb": peak if peak is not None else peak_rss_mb(), "repeats": len(times),
        "threads": torch.get_num_threads(), "backend": "pytorch-cpu",
    }


def step_row(args, model_name, op, images, labels):
    model = build(model_name).train()
    if op == "lora-step":
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        attach_lora(model, lambda name: True, 8, 16.0, 0.0)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    x, y = normalize(images[: args.train_batch]), labels[: args.train_batch]

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    reset_peak_rss()
    times = timed(step, args.warmup, args.repeats)
    return row(model_name, op, args.train_batch, times, 3.0 if op == "train-step" else 2.0)


def infer_row(args, model_name, batch, images):
    model = build(model_name).eval()
    x = normalize(images[:batch])

    def infer():
        with torch.inference_mode():
            model(x)

    reset_peak_rss()
    return row(model_name, "infer", batch, timed(infer, args.warmup, args.repeats), 1.0)


def epoch_row(args, model_name, op, images, labels):
    retained = (labels != 3).nonzero().flatten()[: args.forget_images]
    times, peak = [], 0.0
    for repeat in range(args.repeats):
        reset_peak_rss()
        torch.manual_seed(repeat)
        started = time.perf_counter()
        model = build(model_name).train()
        if op == "prunelora-epoch":
            resnet = model_name == "resnet20"
            last = f"blocks.{len(model.blocks) - 1}.attention.out_proj"
            prune_l2(model, (lambda name: name != "head") if resnet else (lambda name: name in (last, "head")))
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            if resnet:
                attach_lora(model, lambda name: ".layers." in name, 8, 16.0, 0.1)
                for parameter in model.head.parameters():
                    parameter.requires_grad_(True)
            else:
                attach_lora(model, lambda name: name in (last, "head"), 16, 32.0, 0.1)
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        order = retained[torch.randperm(len(retained))]
        for start in range(0, len(order), args.train_batch):
            chosen = order[start:start + args.train_batch]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(normalize(images[chosen])), labels[chosen]).backward()
            optimizer.step()
        times.append((time.perf_counter() - started) * 1e3)
        peak = max(peak, peak_rss_mb() or 0.0)
    return row(model_name, op, args.forget_images, times, 3.0 if op == "ft-epoch" else 2.0, peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("LETHE_DATA_DIR", "../shared/data"))
    parser.add_argument("--model", action="append", choices=sorted(FORWARD_FLOPS))
    parser.add_argument("--op", action="append",
                        choices=["train-step", "lora-step", "infer", "prunelora-epoch", "ft-epoch"])
    parser.add_argument("--infer-batch", action="append", type=int)
    parser.add_argument("--train-batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--forget-images", type=int, default=2048)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    torch.set_num_threads(args.threads)
    images, labels = load_cifar_train(args.data_dir)
    for model_name in args.model or ["resnet20", "vit-tiny"]:
        for op in args.op or ["train-step", "lora-step", "infer", "prunelora-epoch", "ft-epoch"]:
            if op in ("train-step", "lora-step"):
                rows = [step_row(args, model_name, op, images, labels)]
            elif op == "infer":
                rows = [infer_row(args, model_name, b, images) for b in args.infer_batch or [1, 256]]
            else:
                rows = [epoch_row(args, model_name, op, images, labels)]
            for result in rows:
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
