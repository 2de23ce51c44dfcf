"""Independent reference for the SavedModel importer (numpy only, no
TensorFlow, nothing shared with the C code): reads a Keras 2 SavedModel
directory by hand -- saved_model.pb's root object metadata (the Keras
config) and the layers' "layer_with_weights-K" edges, the LevelDB table of
variables/variables.index and the raw tensors of the data file -- and runs
the Keras graph in float64 for the layers a DS-CNN uses (InputLayer,
Conv2D, DepthwiseConv2D, BatchNormalization, Activation, AveragePooling2D,
Flatten, Dropout, Dense; a chain of layers).

usage:
  keras_ref.py run SAVEDMODEL_DIR IN.npy OUT.npy     forward pass
  keras_ref.py corr SAVEDMODEL_DIR MODEL.tflite      mean |correlation|,
      per output channel, of the first Conv2D kernel with the first
      CONV_2D filter of a .tflite (via $TINYML_SHARED/tools/tflite_ref.py)
"""
import json
import os
import struct
import sys

import numpy as np


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """Top-level (field number, value) pairs of a protobuf message."""
    i, out = 0, []
    while i < len(b):
        tag, i = varint(b, i)
        f, wire = tag >> 3, tag & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif wire == 5:
            v = struct.unpack('<I', b[i:i + 4])[0]
            i += 4
        elif wire == 1:
            v = struct.unpack('<Q', b[i:i + 8])[0]
            i += 8
        else:
            raise ValueError('wire type %d' % wire)
        out.append((f, v))
    return out


def first(msg, num):
    for f, v in fields(msg):
        if f == num:
            return v
    return None


def object_graph(d):
    pb = open(os.path.join(d, 'saved_model.pb'), 'rb').read()
    meta_graph = first(pb, 2)
    graph = first(meta_graph, 7)
    nodes = [v for f, v in fields(graph) if f == 1]
    return nodes


def table_block(b, off, size):
    d = b[off:off + size]
    restarts = struct.unpack('<I', d[-4:])[0]
    end, i, key, out = size - 4 - 4 * restarts, 0, b'', []
    while i < end:
        shared, i = varint(d, i)
        unshared, i = varint(d, i)
        vlen, i = varint(d, i)
        key = key[:shared] + d[i:i + unshared]
        i += unshared
        out.append((key, d[i:i + vlen]))
        i += vlen
    return out


def checkpoint(d):
    idx = open(os.path.join(d, 'variables', 'variables.index'), 'rb').read()
    data = open(os.path.join(d, 'variables', 'variables.data-00000-of-00001'), 'rb').read()
    foot, i = idx[-48:], 0
    _, i = varint(foot, i)
    _, i = varint(foot, i)
    io, i = varint(foot, i)
    isz, i = varint(foot, i)
    out = {}
    for _, handle in table_block(idx, io, isz):
        off, j = varint(handle, 0)
        size, j = varint(handle, j)
        for key, val in table_block(idx, off, size):
            if not key:
                continue
            f = dict((k, v) for k, v in fields(val) if k != 2)
            shape = [first(dim, 1) or 0 for k, dim in fields(first(val, 2) or b'') if k == 2]
            if f.get(1) == 1:  # DT_FLOAT
                o, n = f.get(4, 0), f.get(5, 0)
                out[key.decode()] = np.frombuffer(data[o:o + n], '<f4').reshape(shape)
    return out


def unwrap(v):
    if isinstance(v, dict):
        if v.get('class_name') in ('__tuple__', 'TensorShape') and 'items' in v:
            return [unwrap(x) for x in v['items']]
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unwrap(x) for x in v]
    return v


def load(d):
    nodes = object_graph(d)
    root = fields(nodes[0])
    meta = json.loads(first(first(nodes[0], 4), 3))
    config = unwrap(meta.get('model_config', meta))['config']
    ckpt = checkpoint(d)
    weights = {}
    for f, ref in root:
        if f != 1:
            continue
        nid, name = first(ref, 1) or 0, (first(ref, 2) or b'').decode()
        if not name.startswith('layer_with_weights-'):
            continue
        lname = json.loads(first(first(nodes[nid], 4), 3))['name']
        prefix = name + '/'
        weights[lname] = {k[len(prefix):].split('/')[0]: v for k, v in ckpt.items()
                          if k.startswith(prefix) and k.endswith('/.ATTRIBUTES/VARIABLE_VALUE')
                          and '/.OPTIMIZER_SLOT/' not in k}
    return config, weights


def pads(n, k, s, same):
    if not same:
        return (n - k) // s + 1, 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def window(x, kh, kw, sh, sw, same, fill=0.0):
    """x [H, W, C] -> patches [OH, OW, kh, kw, C] and a validity mask."""
    H, W, C = x.shape
    oh, pt, pb = pads(H, kh, sh, same)
    ow, pl, pr = pads(W, kw, sw, same)
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    mp = np.pad(np.ones((H, W)), ((pt, pb), (pl, pr)))
    p = np.empty((oh, ow, kh, kw, C))
    m = np.empty((oh, ow, kh, kw))
    for i in range(oh):
        for j in range(ow):
            p[i, j] = xp[i * sh:i * sh + kh, j * sw:j * sw + kw]
            m[i, j] = mp[i * sh:i * sh + kh, j * sw:j * sw + kw]
    return p, m


def act(x, a):
    if a in (None, 'linear'):
        return x
    if a == 'relu':
        return np.maximum(x, 0)
    if a == 'softmax':
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError('activation ' + a)


def forward(config, weights, x):
    x = x.astype(np.float64)[0]
    for layer in config['layers']:
        cls, c, w = layer['class_name'], layer['config'], weights.get(layer['config']['name'], {})
        if cls in ('InputLayer', 'Dropout'):
            continue
        if cls == 'Conv2D':
            k = w['kernel'].astype(np.float64)
            p, _ = window(x, k.shape[0], k.shape[1], *c['strides'], c['padding'] == 'same')
            x = np.einsum('ijabc,abcd->ijd', p, k)
            x = act(x + (w['bias'] if c.get('use_bias', True) else 0), c['activation'])
        elif cls == 'DepthwiseConv2D':
            k = w['depthwise_kernel'].astype(np.float64)[:, :, :, 0]
            p, _ = window(x, k.shape[0], k.shape[1], *c['strides'], c['padding'] == 'same')
            x = np.einsum('ijabc,abc->ijc', p, k)
            x = act(x + (w['bias'] if c.get('use_bias', True) else 0), c['activation'])
        elif cls == 'BatchNormalization':
            g = w.get('gamma', 1.0)
            b = w.get('beta', 0.0)
            x = (x - w['moving_mean']) / np.sqrt(w['moving_variance'] + c['epsilon']) * g + b
        elif cls == 'Activation':
            x = act(x, c['activation'])
        elif cls == 'AveragePooling2D':
            kh, kw = c['pool_size']
            p, m = window(x, kh, kw, *c['strides'], c['padding'] == 'same')
            x = p.sum(axis=(2, 3)) / m.sum(axis=(2, 3))[:, :, None]
        elif cls == 'Flatten':
            x = x.reshape(-1)
        elif cls == 'Dense':
            x = act(x @ w['kernel'] + w['bias'], c['activation'])
        else:
            raise ValueError('layer class ' + cls)
    return x[None]


def main():
    if len(sys.argv) == 5 and sys.argv[1] == 'run':
        config, weights = load(sys.argv[2])
        np.save(sys.argv[4], forward(config, weights, np.load(sys.argv[3])).astype(np.float32))
    elif len(sys.argv) == 4 and sys.argv[1] == 'corr':
        config, weights = load(sys.argv[2])
        first_conv = next(l['config']['name'] for l in config['layers']
                          if l['class_name'] == 'Conv2D')
        k = weights[first_conv]['kernel'].transpose(3, 0, 1, 2)
        sys.path.insert(0, os.path.join(os.environ['TINYML_SHARED'], 'tools'))
        import tflite_ref
        tensors, ops, _, _ = tflite_ref.load(sys.argv[3])
        f = next(tensors[o[1][1]]['val'] for o in ops if o[0] == 3)
        # Per output channel (a folded BatchNormalization scales each
        # channel): |correlation|, averaged over the channels.
        k, f = k.reshape(k.shape[0], -1), f.reshape(f.shape[0], -1)
        print('%.4f' % np.mean([abs(np.corrcoef(k[o], f[o])[0, 1]) for o in range(k.shape[0])]))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
