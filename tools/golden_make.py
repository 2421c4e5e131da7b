#!/usr/bin/env python3
"""Makes the golden fixtures tests/golden/*.safetensors with the PyTorch twins.

usage: .venv-torch/bin/python tools/golden_make.py [--init build-golden/tools/golden_init]
                                                    [--out tests/golden] [--case NAME]...

For each case: tools/golden_init (C, on clgan's ref device) writes clgan's
initial parameters, running statistics and the run configuration; the twin
(tools/golden_twin.py) loads them by name, trains STEPS full steps (n_critic
D updates, then one G update) on fixed batches with the z and epsilon of
clgan's Philox streams, and records, per D step k and G step s:

  d{k}.x, d{k}.labels            the real batch (inputs)
  d{k}.loss, .d_real, .d_fake, .penalty, .r1, .grad_norm   (before clipping)
  d{k}.loss_scale, g{s}.loss_scale   the size of the terms each loss sums (the scale of its rounding)
  d{k}.grad.<name>               every D gradient (after clipping, as used)
  d0.z, d0.eps, g0.z             the noise of the first steps (the C test checks clgan draws the same)
  g{s}.labels, g{s}.loss, g{s}.grad_norm, g{s}.grad.<name>
  s{s}.<name>                    every G and D parameter and running statistic after full step s
  init.<name>                    the starting point
  sample.z, sample.labels, sample.out   G in evaluation mode after the last step (running statistics)

Design (a pairwise cover, not the whole cross-product): the 6 losses x 3
models, each once (18 cases); optimizer = (loss index + model index) mod 3,
so every loss meets every optimizer (on a different model each time) and
every model meets every optimizer twice; conditional when loss index mod 3
== model index (one conditional case per loss, two per model). Extra
variety on the DCGAN cases: 3 channels, 28x28 (the 7x7 start), BatchNorm in
a WGAN-GP critic (double backward through BatchNorm, running statistics of
D(x_hat)); global gradient clipping and L2 weight decay on a few cases.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_twin as twin  # noqa: E402

LOSSES = ['minimax', 'ns', 'wgan', 'wgan-gp', 'wgan-gp-phase', 'hinge']
MODELS = ['dcgan', 'mlp', 'toy']
OPTS = ['adam', 'sgd', 'rmsprop']
STEPS = 3

SIZES = {
    'dcgan': ['--image-size', '16', '--width', '4', '--z-dim', '8', '--batch', '4'],
    'mlp': ['--image-size', '8', '--widths', '16,12', '--z-dim', '8', '--batch', '4'],
    'toy': ['--width', '16', '--batch', '8'],
}
# learning rates large enough that an update is far above a parameter's rounding (SGD's default-free rate)
LR = {'sgd': '0.01'}
EXTRA = {
    ('ns', 'dcgan'): ['--channels', '3'],
    ('hinge', 'dcgan'): ['--image-size', '28'],
    ('wgan-gp-phase', 'dcgan'): ['--d-norm', 'batch'],
    ('hinge', 'mlp'): ['--clip-grad', '0.05'],
    ('wgan-gp', 'toy'): ['--clip-grad', '0.5', '--weight-decay', '0.01'],
    ('ns', 'toy'): ['--weight-decay', '0.05'],
}


def cases():
    out = []
    for i, loss in enumerate(LOSSES):
        for j, model in enumerate(MODELS):
            opt = OPTS[(i + j) % 3]
            cond = i % 3 == j
            args = ['--model', model, '--loss', 'wgan-gp' if loss == 'wgan-gp-phase' else loss, '--opt', opt]
            args += SIZES[model] + EXTRA.get((loss, model), [])
            if opt in LR:
                args += ['--lr', LR[opt]]
            if loss.startswith('wgan'):
                args += ['--n-critic', '2']
            if loss == 'wgan-gp-phase':
                args += ['--gp-phase-steps', '1']
            if cond:
                args += ['--classes', '3']
            args += ['--seed', str(11 + 3 * i + j)]
            name = '%s-%s-%s%s' % (model, loss, opt, '-cond' if cond else '')
            out.append((name, args))
    # R1 on real data (double backward through D, BatchNorm critic included), on every D step and lazily
    # (every 2nd D step, times 2); beyond the pairwise cover
    out.append(('dcgan-ns-adam-r1', ['--model', 'dcgan', '--loss', 'ns', '--opt', 'adam'] + SIZES['dcgan'] +
                ['--r1', '10', '--seed', '41']))
    # spectral normalisation (PyTorch's torch.nn.utils.spectral_norm in the twin): with R1 (double backward
    # through it), with the gradient penalty (three power iterations a D step), conditional
    out.append(('dcgan-hinge-adam-sn-r1', ['--model', 'dcgan', '--loss', 'hinge', '--opt', 'adam'] + SIZES['dcgan'] +
                ['--d-norm', 'spectral', '--r1', '1', '--seed', '45']))
    # (SGD: a WGAN critic's hidden biases have gradients that cancel to rounding noise, which RMSProp and Adam
    # would turn into full-size updates of either sign)
    out.append(('toy-wgan-gp-sgd-sn', ['--model', 'toy', '--loss', 'wgan-gp', '--opt', 'sgd'] + SIZES['toy'] +
                ['--lr', LR['sgd'], '--d-norm', 'spectral', '--n-critic', '2', '--seed', '47']))
    out.append(('mlp-ns-sgd-sn-cond', ['--model', 'mlp', '--loss', 'ns', '--opt', 'sgd'] + SIZES['mlp'] +
                ['--lr', LR['sgd'], '--d-norm', 'spectral', '--classes', '3', '--seed', '49']))
    # DiffAugment (the twin runs the paper's reference code on clgan's draws): every policy on an RGB DCGAN
    # (saturation mixes channels), with R1 through the augmentation; translation and cutout on a
    # conditional MLP
    out.append(('dcgan-ns-adam-diffaug-r1', ['--model', 'dcgan', '--loss', 'ns', '--opt', 'adam'] + SIZES['dcgan'] +
                ['--channels', '3', '--augment', 'color,translation,cutout', '--r1', '1', '--seed', '51']))
    # (SGD: cutout leaves first-layer weights of cut pixels with zero gradients, which RMSProp would turn into
    # updates of rounding noise)
    out.append(('mlp-hinge-sgd-diffaug-cond', ['--model', 'mlp', '--loss', 'hinge', '--opt', 'sgd'] +
                SIZES['mlp'] + ['--lr', LR['sgd'], '--augment', 'translation,cutout', '--classes', '3', '--seed', '53']))
    out.append(('mlp-hinge-sgd-r1-lazy', ['--model', 'mlp', '--loss', 'hinge', '--opt', 'sgd'] + SIZES['mlp'] +
                ['--lr', LR['sgd'], '--n-critic', '2', '--r1', '5', '--r1-every', '2', '--seed', '43']))
    # PacGAN packing (D judges M samples at a time): on the toy model with the VEEGAN/PacGAN layers (G
    # BatchNorm, D maxout, N(0, 0.02) weights), on a WGAN-GP MLP (the penalty per packed input) and on an
    # RGB DCGAN with R1 (images packed along the channels)
    out.append(('toy-hinge-adam-pacgan', ['--model', 'toy', '--loss', 'hinge', '--opt', 'adam', '--width', '16',
                                       '--batch', '8', '--pack', '2', '--g-batchnorm', '1', '--d-widths', '12,10',
                                       '--maxout', '3', '--normal-init', '1', '--seed', '55']))
    out.append(('mlp-wgan-gp-sgd-pack', ['--model', 'mlp', '--loss', 'wgan-gp', '--opt', 'sgd'] + SIZES['mlp'] +
                ['--lr', LR['sgd'], '--n-critic', '2', '--pack', '2', '--seed', '57']))
    out.append(('dcgan-ns-adam-pack-r1', ['--model', 'dcgan', '--loss', 'ns', '--opt', 'adam'] + SIZES['dcgan'] +
                ['--channels', '3', '--pack', '2', '--r1', '1', '--seed', '59']))
    return out


def uses_r1(cfg, d_steps):
    """src/train/gan.c: R1 on every D step, or on every r1_every-th (d_steps % k == 0)."""
    r1 = cfg.get('r1', {})
    gamma, every = r1.get('gamma', 0), r1.get('every', 1)
    return gamma > 0 and (every <= 1 or d_steps % every == 0)


def uses_penalty(cfg, g_steps):
    """src/train/gan.c: the penalty graph runs for wgan-gp (always, or while
    g_steps < gp_phase_steps) and for any loss with gp_phase_steps > 0."""
    phase = cfg['gp_phase_steps']
    if cfg['loss'] == 'wgan-gp' and phase <= 0:
        return True
    return (cfg['loss'] == 'wgan-gp' or phase > 0) and g_steps < phase


def run_case(name, init_path):
    import torch
    torch.manual_seed(0)
    tensors, meta = twin.st_read(init_path)
    cfg = json.loads(meta['config'])
    m = dict(cfg['model'], **cfg.get('arch', {}))  # the layer options ride in the "arch" group
    M = max(m.get('pack', 1), 1)
    Generator, Discriminator = twin.torch_models()
    d_loss, g_loss, score = twin.losses()
    G, D = Generator(m), Discriminator(m)
    # load clgan's initial state by name; the twin must have exactly clgan's tensors
    for prefix, net in (('g.', G), ('d.', D)):
        mine = {k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
        theirs = {k[len(prefix):] for k in tensors if k.startswith(prefix)}
        if set(mine) != theirs:
            raise SystemExit('%s: twin tensors %s differ from clgan\'s %s' % (name, sorted(set(mine) ^ theirs),
                                                                               prefix))
        with torch.no_grad():
            for k, v in mine.items():
                src = torch.from_numpy(tensors[prefix + k])
                if tuple(src.shape) != tuple(v.shape):
                    raise SystemExit('%s: %s%s shape %s vs %s' % (name, prefix, k, tuple(src.shape), tuple(v.shape)))
                v.copy_(src)
    out = {'init.' + k: v for k, v in tensors.items() if not k.startswith('optim.')}
    N, zd, seed = cfg['batch_size'], m['z_dim'], int(cfg['seed'])
    classes = m['classes']
    sample_shape = (N, 2) if m['kind'] == 'toy' else (N, m['channels'], m['image_size'], m['image_size'])
    data_rng = np.random.default_rng(1000 + seed)
    g_params = [p for p in G.parameters()]
    d_params = [p for p in D.parameters()]
    opt_g = twin.make_optimizer(g_params, cfg['opt_g'])
    opt_d = twin.make_optimizer(d_params, cfg['opt_d'])
    g_names = [n for n, _ in G.named_parameters()]
    d_names = [n for n, _ in D.named_parameters()]

    def grads(prefix, names, params):
        return {prefix + n: p.grad.detach().numpy().copy() for n, p in zip(names, params)}

    def total_norm(params):
        return float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params)))

    def scalar(v):
        return np.array([float(v.detach() if hasattr(v, 'detach') else v)], dtype=np.float32)

    k = 0
    for s in range(STEPS):
        for _ in range(cfg['n_critic']):
            if m['kind'] == 'toy':
                x = (data_rng.standard_normal(sample_shape) * 1.5).astype(np.float32)
            else:
                x = data_rng.uniform(-1, 1, sample_shape).astype(np.float32)
            y = data_rng.integers(0, classes, N).astype(np.int32) if classes else None
            out['d%d.x' % k] = x
            if classes:
                out['d%d.labels' % k] = y
            yt = torch.from_numpy(y).long() if classes else None
            z = twin.philox_normal(seed, twin.stream_offset(k, twin.STREAM_Z_D), N * zd).reshape(N, zd)
            if k == 0:
                out['d0.z'] = z
            r1_on = uses_r1(cfg, k)
            xt = torch.from_numpy(x).requires_grad_(r1_on)
            with torch.no_grad():
                fake = G(torch.from_numpy(z), yt, update_stats=False)
            opt_d.zero_grad(set_to_none=False)
            policy = cfg.get('augment', {}).get('policy', '')

            def aug(v, stream):
                if not policy:
                    return v
                return twin.diff_augment(v, twin.philox_uniform(seed, twin.stream_offset(k, stream), N * 7)
                                         .reshape(N, 7), policy)
            dr = D(aug(xt, twin.STREAM_AUG_REAL), yt, update_stats=True)
            df = D(aug(fake, twin.STREAM_AUG_FAKE), yt, update_stats=True)
            loss = d_loss(cfg['loss'], dr, df)
            pen = torch.zeros(())
            if uses_penalty(cfg, s):
                e = twin.philox_uniform(seed, twin.stream_offset(k, twin.STREAM_EPS), N).reshape(N, 1)
                if k == 0:
                    out['d0.eps'] = e
                et = torch.from_numpy(e).view((N,) + (1,) * (len(sample_shape) - 1))
                xhat = (et * xt + (1 - et) * fake).requires_grad_(True)
                dh = D(xhat, yt, update_stats=True)
                gx, = torch.autograd.grad(dh.sum(), xhat, create_graph=True)
                pen = cfg['gp_lambda'] * ((gx.reshape(N // M, -1).norm(2, dim=1) - 1) ** 2).mean()  # per input of D
                loss = loss + pen
            r1 = torch.zeros(())
            if r1_on:
                # gamma / 2 E ||grad_x D(x)||^2 on the real batch, times k when lazy
                gx, = torch.autograd.grad(dr.sum(), xt, create_graph=True)
                every = max(cfg['r1']['every'], 1)
                r1 = 0.5 * cfg['r1']['gamma'] * every * gx.pow(2).reshape(N // M, -1).sum(1).mean()
                loss = loss + r1
            loss.backward()
            out['d%d.loss' % k] = scalar(loss)
            # the size of the terms the loss sums: its rounding error is relative to this, not to the loss
            # (a WGAN critic's E[D(fake)] - E[D(real)] nearly cancels)
            out['d%d.loss_scale' % k] = scalar(dr.abs().mean() + df.abs().mean() + pen.abs() + r1.abs() + loss.abs())
            out['d%d.d_real' % k] = scalar(score(cfg['loss'], dr))
            out['d%d.d_fake' % k] = scalar(score(cfg['loss'], df))
            out['d%d.penalty' % k] = scalar(pen)
            out['d%d.r1' % k] = scalar(r1)
            out['d%d.grad_norm' % k] = scalar(total_norm(d_params))
            if cfg['clip_grad'] > 0:
                torch.nn.utils.clip_grad_norm_(d_params, cfg['clip_grad'])
            out.update(grads('d%d.grad.d.' % k, d_names, d_params))
            opt_d.step()
            if cfg['loss'] == 'wgan' and cfg['weight_clip'] > 0:
                with torch.no_grad():
                    for p in d_params:
                        p.clamp_(-cfg['weight_clip'], cfg['weight_clip'])
            k += 1
        # G step: fresh z, D's parameters not differentiated, D's running statistics untouched
        z = twin.philox_normal(seed, twin.stream_offset(s, twin.STREAM_Z_G), N * zd).reshape(N, zd)
        if s == 0:
            out['g0.z'] = z
        y = data_rng.integers(0, classes, N).astype(np.int32) if classes else None
        if classes:
            out['g%d.labels' % s] = y
        yt = torch.from_numpy(y).long() if classes else None
        for p in d_params:
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=False)
        fake = G(torch.from_numpy(z), yt, update_stats=True)
        policy = cfg.get('augment', {}).get('policy', '')
        if policy:
            fake = twin.diff_augment(fake, twin.philox_uniform(seed, twin.stream_offset(s, twin.STREAM_AUG_G), N * 7)
                                     .reshape(N, 7), policy)
        df = D(fake, yt, update_stats=False)
        loss = g_loss(cfg['loss'], df)
        loss.backward()
        for p in d_params:
            p.requires_grad_(True)
        out['g%d.loss' % s] = scalar(loss)
        out['g%d.loss_scale' % s] = scalar(df.abs().mean() + loss.abs())
        out['g%d.grad_norm' % s] = scalar(total_norm(g_params))
        if cfg['clip_grad'] > 0:
            torch.nn.utils.clip_grad_norm_(g_params, cfg['clip_grad'])
        out.update(grads('g%d.grad.g.' % s, g_names, g_params))
        opt_g.step()
        for prefix, net in (('g.', G), ('d.', D)):
            for n, v in net.state_dict().items():
                if not n.endswith('num_batches_tracked'):
                    out['s%d.%s%s' % (s, prefix, n)] = v.detach().numpy().copy()
    # G in evaluation mode (running statistics), as clgan_gan_generate
    zs = data_rng.standard_normal((N, zd)).astype(np.float32)
    ys = data_rng.integers(0, classes, N).astype(np.int32) if classes else None
    out['sample.z'] = zs
    if classes:
        out['sample.labels'] = ys
    with torch.no_grad():
        out['sample.out'] = G(torch.from_numpy(zs), torch.from_numpy(ys).long() if classes else None,
                              update_stats='eval').numpy()
    # a fixture must stay in the well-conditioned regime: a diverging run (saturated tanh, exploding critic)
    # makes gradients that are exactly zero on one side and rounding noise on the other
    for key, v in out.items():
        if key.endswith('.loss') and not abs(float(v[0])) < 100:
            raise SystemExit('%s: %s = %g: the case diverges; lower its learning rate' % (name, key, float(v[0])))
        if key.startswith('g') and key.endswith('.grad_norm') and not float(v[0]) > 1e-6:
            raise SystemExit('%s: %s = %g: G gets no gradient (saturated)' % (name, key, float(v[0])))
    fixture_meta = {'format': 'clgan-golden', 'format_version': '1', 'case': name, 'config': meta['config'],
                    'steps': str(STEPS), 'made_by': 'tools/golden_make.py with torch %s' % torch.__version__}
    return {k: np.ascontiguousarray(v) for k, v in out.items()}, fixture_meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--init', default='build-golden/tools/golden_init')
    ap.add_argument('--out', default='tests/golden')
    ap.add_argument('--case', action='append')
    a = ap.parse_args()
    twin.philox_check()
    os.makedirs(a.out, exist_ok=True)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in cases():
            if a.case and name not in a.case:
                continue
            init = os.path.join(tmp, name + '.init.safetensors')
            subprocess.run([a.init, init] + args, check=True)
            tensors, meta = run_case(name, init)
            path = os.path.join(a.out, name + '.safetensors')
            twin.st_write(path, tensors, meta)
            size = os.path.getsize(path)
            total += size
            print('%-36s %7d bytes  %s' % (name, size, ' '.join(args)))
    print('total %d bytes' % total)


if __name__ == '__main__':
    main()
