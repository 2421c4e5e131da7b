#!/usr/bin/env python3
"""bench_torch: the PyTorch twins' training step on the CPU, for comparison with bench_train.

usage: .venv-torch/bin/python tools/bench_torch.py [--model dcgan|mlp]... [--image-size S] [--channels C]
                                                   [--batch B] [--steps N] [--warmup W] [--threads T] [--csv]
                                                   [--profile]

One step is what build/tools/bench_train times: one D update (G forward without gradients, D on the real
and the generated batch, non-saturating BCE loss, backward, Adam), then one G update (fresh z, D's
parameters not differentiated, backward through D into G, Adam), with clgan's default shapes (DCGAN
28x28x1, ngf = ndf = 64, z 100; MLP 100-128-128-1024-1024-784; batch 64; Adam 2e-4, 0.5, 0.999) and
the same layers (tools/golden_twin.py). Real batches are uniform random images in [-1, 1] (the work does
not depend on the pixel values). The figure is the median step time over --steps steps after --warmup
steps, as images/s = batch / median; torch.set_num_threads(--threads, default 2). --profile then runs
--steps more steps under torch.profiler and prints PyTorch's time per op per step (self CPU time, the
ops with the most first), to set beside bench_train --profile.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_twin as twin  # noqa: E402


def model_config(kind, image_size, channels):
    """clgan_run_defaults(kind, ns) as golden_twin's model dictionary."""
    m = {'kind': kind, 'z_dim': 100, 'channels': channels, 'image_size': image_size, 'width': 64, 'widths': [],
         'classes': 0, 'd_norm': 'batch'}
    if kind == 'mlp':
        m['widths'] = [128, 128, 1024, 1024]
        m['d_norm'] = 'none'
    return m


def describe(m):
    if m['kind'] == 'dcgan':
        return 'dcgan %dx%dx%d, ngf=ndf=%d' % (m['channels'], m['image_size'], m['image_size'], m['width'])
    return 'mlp %d-%s-%d' % (m['z_dim'], '-'.join(map(str, m['widths'])), m['channels'] * m['image_size'] ** 2)


def bench(m, batch, steps, warmup):
    import torch
    Generator, Discriminator = twin.torch_models()
    d_loss, g_loss, _ = twin.losses()
    G, D = Generator(m), Discriminator(m)
    adam = {'kind': 'adam', 'lr': 2e-4, 'beta1': 0.5, 'beta2': 0.999, 'eps': 1e-8, 'weight_decay': 0.0}
    opt_g = twin.make_optimizer(G.parameters(), adam)
    opt_d = twin.make_optimizer(D.parameters(), adam)
    d_params = list(D.parameters())
    torch.manual_seed(1)
    shape = (batch, m['channels'], m['image_size'], m['image_size'])
    data = [torch.rand(shape) * 2 - 1 for _ in range(4)]
    times, d_times = [], []
    for i in range(warmup + steps):
        x = data[i % len(data)]
        t0 = time.perf_counter()
        # D step
        with torch.no_grad():
            fake = G(torch.randn(batch, m['z_dim']), None, update_stats=False)
        opt_d.zero_grad(set_to_none=True)
        loss = d_loss('ns', D(x, None, True), D(fake, None, True))
        loss.backward()
        opt_d.step()
        loss_d = loss.item()  # clgan reads the loss back every step too
        t1 = time.perf_counter()
        # G step
        for p in d_params:
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        loss = g_loss('ns', D(G(torch.randn(batch, m['z_dim']), None, True), None, False))
        loss.backward()
        opt_g.step()
        loss_g = loss.item()
        for p in d_params:
            p.requires_grad_(True)
        t2 = time.perf_counter()
        if i >= warmup:
            times.append(t2 - t0)
            d_times.append(t1 - t0)
        if not (abs(loss_d) < 1e6 and abs(loss_g) < 1e6):
            raise SystemExit('the loss diverged: %g %g' % (loss_d, loss_g))
    return statistics.median(times), statistics.median(d_times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', action='append', choices=['dcgan', 'mlp'])
    ap.add_argument('--image-size', type=int, default=28)
    ap.add_argument('--channels', type=int, default=1)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--csv', action='store_true')
    ap.add_argument('--profile', action='store_true')
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    models = a.model or ['dcgan', 'mlp']
    if a.csv:
        print('model,batch,threads,steps,warmup,step_ms,d_step_ms,images_per_s,torch')
    else:
        print('PyTorch %s on the CPU, %d threads; loss ns, Adam; median of %d steps after %d warm-up' %
              (torch.__version__, a.threads, a.steps, a.warmup))
        print('%-30s  %5s  %10s  %10s  %9s' % ('model', 'batch', 'D step ms', 'step ms', 'images/s'))
    for kind in models:
        m = model_config(kind, a.image_size, a.channels)
        step, d_step = bench(m, a.batch, a.steps, a.warmup)
        ips = a.batch / step
        if a.csv:
            print('"%s",%d,%d,%d,%d,%.6g,%.6g,%.6g,%s' % (describe(m), a.batch, a.threads, a.steps, a.warmup,
                                                           step * 1e3, d_step * 1e3, ips, torch.__version__))
        else:
            print('%-30s  %5d  %10.1f  %10.1f  %9.1f' % (describe(m), a.batch, d_step * 1e3, step * 1e3, ips))
        sys.stdout.flush()
        if a.profile:
            profile(m, a.batch, a.steps)


def profile(m, batch, steps):
    """PyTorch's self CPU time per op over `steps` steps, per step, the largest first"""
    from torch.profiler import profile as torch_profile, ProfilerActivity
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        bench(m, batch, steps, 0)
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in rows)
    print('  profile (torch.profiler, %d steps): %.1f ms of self CPU time per step' % (steps, total / 1e3 / steps))
    print('  %-52s %7s %9s %6s' % ('op', 'calls', 'ms/step', '%'))
    for e in rows[:20]:
        print('  %-52s %7d %9.2f %5.1f%%' % (e.key[:52], e.count // steps, e.self_cpu_time_total / 1e3 / steps,
                                             100.0 * e.self_cpu_time_total / total if total else 0.0))


if __name__ == '__main__':
    main()
