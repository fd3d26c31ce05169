"""PyTorch's side of gpu/device-check.sh: the same cases as gpu/FunctionalAD.GpuBench, timed the same way (one
warm-up call, then the mean over `reps` calls with the device synchronised around them). Prints one
"case<TAB>ms" line per case, with the case names FunctionalAD.GpuBench --tsv uses."""
import sys
import time

import torch

if not torch.cuda.is_available():
    print("no CUDA device: torch.cuda.is_available() is False", file=sys.stderr)
    sys.exit(2)
dev = torch.device("cuda:0")
torch.backends.cuda.matmul.allow_tf32 = False  # FunctionalAD computes float32 products in float32
torch.backends.cudnn.allow_tf32 = False
reps = 10
g = torch.Generator(device=dev).manual_seed(42)


def timed(body):
    body()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        body()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) * 1000.0 / reps


def report(name, ms):
    print(f"{name}\t{ms:.4f}", flush=True)


for n in (1024, 4096):
    a = torch.rand(n, n, device=dev, generator=g)
    b = torch.rand(n, n, device=dev, generator=g)
    report(f"matmul f32 n={n}", timed(lambda: a @ b))
    del a, b

n = 100_000_000
x = torch.full((n,), 1.5, device=dev)
y = torch.full((n,), 2.5, device=dev)
report("elementwise x*y f32 n=1E+008", timed(lambda: x * y))
report("elementwise sin f32 n=1E+008", timed(lambda: torch.sin(x)))
del x, y

n = 10_000_000
x = torch.rand(n, device=dev, generator=g)


def grad_case():
    t = x.detach().requires_grad_()
    return torch.autograd.grad((torch.sin(t) * t).sum(), t)[0]


report("grad sum(sin x * x) f32 n=1E+007", timed(grad_case))

batch, inputs, hidden, classes = 512, 784, 1024, 10
X = torch.rand(batch, inputs, device=dev, generator=g)
Y = torch.rand(batch, classes, device=dev, generator=g)
mlp = [torch.randn(inputs, hidden, device=dev, generator=g) * 0.05, torch.zeros(hidden, device=dev),
       torch.randn(hidden, classes, device=dev, generator=g) * 0.05, torch.zeros(classes, device=dev)]


def mlp_step():
    ps = [p.detach().requires_grad_() for p in mlp]
    loss = (((X @ ps[0] + ps[1]).tanh() @ ps[2] + ps[3] - Y) ** 2).mean()
    grads = torch.autograd.grad(loss, ps)
    for i in range(4):
        mlp[i] = ps[i].detach() - grads[i] * 0.01


report(f"MLP step {inputs}-{hidden}-{classes} batch {batch}", timed(mlp_step))

batch = 64
Xc = torch.rand(batch, 1, 28, 28, device=dev, generator=g)
labels = torch.arange(batch, device=dev) % 10


def init(shape, fan_in):
    return (torch.rand(*shape, device=dev, generator=g) * 2 - 1) / fan_in ** 0.5


cnn = [init((32, 1, 3, 3), 9), init((32,), 9), init((64, 32, 3, 3), 288), init((64,), 288),
       init((1600, 128), 1600), init((128,), 1600), init((128, 10), 128), init((10,), 128)]
F = torch.nn.functional


def cnn_step():
    ps = [p.detach().requires_grad_() for p in cnn]
    h = F.max_pool2d(F.relu(F.conv2d(Xc, ps[0], ps[1])), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, ps[2], ps[3])), 2)
    logits = F.relu(h.reshape(batch, 1600) @ ps[4] + ps[5]) @ ps[6] + ps[7]
    grads = torch.autograd.grad(F.cross_entropy(logits, labels), ps)
    for i in range(8):
        cnn[i] = ps[i].detach() - grads[i] * 0.01


report(f"CNN step fashion-mnist batch {batch}", timed(cnn_step))
