#!/usr/bin/python3
"""Keras-layout test fixtures for the Keras importer, without TensorFlow.

    /usr/bin/python3 make_fixtures.py OUT_DIR

Writes, into OUT_DIR, tiny models in exactly the layouts Keras saves:
  - <name>.h5     Keras 2.x model.save('m.h5'): root attributes
                  model_config (JSON), keras_version, backend; group
                  model_weights with layer_names, and per layer a group
                  whose weight_names attribute lists "<layer>/<weight>:0"
                  datasets in order;
  - <name>.keras  Keras 3: a zip of config.json (module/class_name/config,
                  inbound_nodes as {"args", "kwargs"} with __keras_tensor__
                  keras_history), metadata.json and model.weights.h5
                  (layers/<layer>/vars/<i>);
plus <name>.in<i>.npy (random float32 inputs, batch 1) and
<name>.<fmt>.out<i>.npy (the outputs, computed here by an independent numpy
implementation of each layer in float64), and a few malformed files.
manifest.json lists every case: files, the TFLite builtin codes the
importer must emit (in order), whether the runtime can run it, or the
exact error expected.

Only numpy and h5py: every layer's math below is written out by hand.
"""
import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

RNG = np.random.default_rng(20240611)

# TFLite builtin codes.
ADD, AVG, CAT, CONV, DW, FC, LOG, MAXP, MUL, RELU, RELU6, RESH = 0, 1, 2, 3, 4, 9, 14, 17, 18, 19, 21, 22
SOFTMAX, TANH, PAD, TRANS, MEAN, SUB, LEAKY, ELU, HSWISH = 25, 28, 34, 39, 40, 41, 98, 111, 117


# ---------------------------------------------------------------- numpy math
def same_pads(n, k, s, d):
    out = -(-n // s)
    eff = (k - 1) * d + 1
    total = max((out - 1) * s + eff - n, 0)
    return out, total // 2, total - total // 2


def spatial(x, k, s, d, padding, fill):
    """Pads NHWC x for a kxk window; returns padded x and the output size."""
    _, h, w, _ = x.shape
    if padding == "same":
        oh, t, b = same_pads(h, k[0], s[0], d[0])
        ow, l, r = same_pads(w, k[1], s[1], d[1])
    else:
        oh = (h - ((k[0] - 1) * d[0] + 1)) // s[0] + 1
        ow = (w - ((k[1] - 1) * d[1] + 1)) // s[1] + 1
        t = b = l = r = 0
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    return xp, oh, ow


def windows(xp, k, s, d, oh, ow):
    for i in range(k[0]):
        for j in range(k[1]):
            yield i, j, xp[:, i * d[0]: i * d[0] + (oh - 1) * s[0] + 1: s[0],
                           j * d[1]: j * d[1] + (ow - 1) * s[1] + 1: s[1], :]


def conv2d(x, w, b, s=(1, 1), padding="valid", d=(1, 1)):
    k = w.shape[:2]
    xp, oh, ow = spatial(x, k, s, d, padding, 0.0)
    out = np.zeros((1, oh, ow, w.shape[3]))
    for i, j, patch in windows(xp, k, s, d, oh, ow):
        out += patch @ w[i, j]
    return out + b


def depthwise(x, w, b, s=(1, 1), padding="valid", d=(1, 1)):
    k, (_, _, ci, m) = w.shape[:2], w.shape
    xp, oh, ow = spatial(x, k, s, d, padding, 0.0)
    out = np.zeros((1, oh, ow, ci * m))
    for i, j, patch in windows(xp, k, s, d, oh, ow):
        out += (patch[..., :, None] * w[i, j]).reshape(1, oh, ow, ci * m)
    return out + b


def maxpool(x, k, s, padding):
    xp, oh, ow = spatial(x, k, s, (1, 1), padding, -np.inf)
    return np.max([p for _, _, p in windows(xp, k, s, (1, 1), oh, ow)], axis=0)


def avgpool(x, k, s, padding):
    xp, oh, ow = spatial(x, k, s, (1, 1), padding, 0.0)
    ones, _, _ = spatial(np.ones_like(x), k, s, (1, 1), padding, 0.0)
    tot = sum(p for _, _, p in windows(xp, k, s, (1, 1), oh, ow))
    cnt = sum(p for _, _, p in windows(ones, k, s, (1, 1), oh, ow))
    return tot / cnt


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def act(name, x, keras3=False):
    return {
        "linear": lambda v: v,
        "relu": lambda v: np.maximum(v, 0.0),
        "relu6": relu6,
        "sigmoid": sigmoid,
        "tanh": np.tanh,
        "softmax": softmax,
        "swish": lambda v: v * sigmoid(v),
        "silu": lambda v: v * sigmoid(v),
        # Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6.
        "hard_sigmoid": (lambda v: relu6(v + 3.0) / 6.0) if keras3
        else (lambda v: np.clip(0.2 * v + 0.5, 0.0, 1.0)),
        "hard_swish": lambda v: v * relu6(v + 3.0) / 6.0,
        "elu": lambda v: np.where(v > 0, v, np.exp(v) - 1.0),
        "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v),
    }[name](x)


ACT_OPS = {"linear": [], "relu": [RELU], "relu6": [RELU6], "sigmoid": [LOG],
           "tanh": [TANH], "softmax": [SOFTMAX], "swish": [LOG, MUL], "silu": [LOG, MUL],
           "hard_sigmoid": [MUL, ADD, RELU6, MUL], "hard_swish": [HSWISH], "elu": [ELU],
           "leaky_relu": [LEAKY]}


# ---------------------------------------------------------------- models
def rnd(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


class Model:
    """A Keras model described layer by layer, evaluated eagerly in numpy.

    fn(inputs, keras3) computes a layer's output from its inputs' values
    (float64), so semantics that differ between Keras 2 and 3
    (hard_sigmoid) are evaluated for each format."""

    def __init__(self, name, sequential=False):
        self.name = name
        self.sequential = sequential
        self.layers = []        # (class, name, config, inbound names, weights, fn)
        self.inputs, self.outputs = [], []
        self.values = {}

    def input(self, name, shape, lo=-2.0, hi=2.0):
        cfg = {"batch_input_shape": [None] + list(shape), "dtype": "float32",
               "sparse": False, "ragged": False, "name": name}
        self.layers.append(("InputLayer", name, cfg, [], [], None))
        self.inputs.append(name)
        self.values[name] = RNG.uniform(lo, hi, (1,) + tuple(shape)).astype(np.float32)
        return name

    def add(self, cls, name, cfg, inbound, weights=(), fn=None):
        if isinstance(inbound, str):
            inbound = [inbound]
        full = {"name": name, "trainable": True, "dtype": "float32"}
        full.update(cfg)
        self.layers.append((cls, name, full, list(inbound), list(weights), fn))
        return name

    def evaluate(self, keras3):
        vals = {n: self.values[n].astype(np.float64) for n in self.inputs}
        todo = [l for l in self.layers if l[0] != "InputLayer"]
        while todo:
            for l in list(todo):
                cls, name, cfg, inbound, weights, fn = l
                if all(i in vals for i in inbound):
                    w = [a.astype(np.float64) for _, a in weights]
                    vals[name] = fn([vals[i] for i in inbound], w, keras3)
                    todo.remove(l)
        return [vals[o].astype(np.float32) for o in self.outputs]

    # ---- Keras 2 config
    def config_k2(self):
        if self.sequential:
            layers = [{"class_name": c, "config": cfg} for c, _, cfg, _, _, _ in self.layers]
            return {"class_name": "Sequential",
                    "config": {"name": self.name, "layers": layers}}
        layers = []
        for c, n, cfg, inbound, _, _ in self.layers:
            nodes = [[[i, 0, 0, {}] for i in inbound]] if inbound else []
            layers.append({"class_name": c, "config": cfg, "name": n, "inbound_nodes": nodes})
        return {"class_name": "Functional",
                "config": {"name": self.name, "layers": layers,
                           "input_layers": [[n, 0, 0] for n in self.inputs],
                           "output_layers": [[n, 0, 0] for n in self.outputs]}}

    # ---- Keras 3 config
    def config_k3(self):
        shapes = {}
        for cls, name, cfg, _, _, _ in self.layers:
            if cls == "InputLayer":
                shapes[name] = cfg["batch_input_shape"]
        layers = []
        for cls, name, cfg, inbound, _, _ in self.layers:
            c = dict(cfg)
            if "batch_input_shape" in c:
                c["batch_shape"] = c.pop("batch_input_shape")
                c.pop("ragged", None)
            if cls == "LeakyReLU":
                c["negative_slope"] = c.pop("alpha")
            if isinstance(c.get("axis"), list) and len(c["axis"]) == 1:
                c["axis"] = c["axis"][0]
            if c.get("dtype") == "float32":
                # Keras >= 3.4 writes dtype policies.
                c["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                              "config": {"name": "float32"}, "registered_name": None}
            layer = {"module": "keras.layers", "class_name": cls, "config": c,
                     "registered_name": None}
            if not self.sequential:
                layer["name"] = name
                tens = [{"class_name": "__keras_tensor__",
                         "config": {"shape": shapes.get(i, [None]), "dtype": "float32",
                                    "keras_history": [i, 0, 0]}} for i in inbound]
                args = [tens] if len(tens) > 1 else tens
                layer["inbound_nodes"] = [{"args": args, "kwargs": {}}] if tens else []
            layers.append(layer)
        if self.sequential:
            return {"module": "keras", "class_name": "Sequential",
                    "config": {"name": self.name, "trainable": True, "layers": layers},
                    "registered_name": None}
        one = lambda ns: [[n, 0, 0] for n in ns]
        return {"module": "keras", "class_name": "Functional",
                "config": {"name": self.name, "trainable": True, "layers": layers,
                           "input_layers": one(self.inputs), "output_layers": one(self.outputs)},
                "registered_name": "Functional"}


def write_h5(path, m, config=None, fixed_strings=False, mutate=None, keras3=False):
    """keras3: the legacy .h5 that Keras 3 writes: its own config format,
    keras_version 3.x, weight_names "<layer>/<weight>" without ":0"."""
    if config is None:
        config = m.config_k3() if keras3 else m.config_k2()
    cfg = json.dumps(config)
    version = "3.3.3" if keras3 else "2.4.0"
    suffix = "" if keras3 else ":0"
    with h5py.File(path, "w") as f:
        if fixed_strings:
            f.attrs["model_config"] = np.bytes_(cfg.encode())
        else:
            f.attrs["model_config"] = cfg
        f.attrs["keras_version"] = version
        f.attrs["backend"] = "tensorflow"
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([n.encode() for _, n, _, _, _, _ in m.layers])
        mw.attrs["backend"] = "tensorflow"
        mw.attrs["keras_version"] = version
        for _, name, _, _, weights, _ in m.layers:
            g = mw.create_group(name)
            if weights:
                g.attrs["weight_names"] = np.array(
                    [("%s/%s%s" % (name, wn, suffix)).encode() for wn, _ in weights])
            else:
                g.attrs["weight_names"] = np.array([], dtype=np.float64)
            for wn, a in weights:
                g.create_dataset("%s/%s%s" % (name, wn, suffix), data=a)
        if mutate:
            mutate(f)


def snake_case(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def store_keys(m):
    """Keras 3 saving_lib keys model.layers by snake_case class name, numbered
    per class (dense, dense_1, ...), never by layer name; a Sequential
    model's layers exclude its InputLayer."""
    used, keys = {}, {}
    for cls, name, _, _, _, _ in m.layers:
        if m.sequential and cls == "InputLayer":
            continue
        k = snake_case(cls)
        if k in used:
            used[k] += 1
            k = "%s_%d" % (k, used[k])
        else:
            used[k] = 0
        keys[name] = k
    return keys


def keras3_weights(m, keep=None):
    """model.weights.h5 bytes; keep(layer name) limits a layer's variables."""
    buf = io.BytesIO()
    keys = store_keys(m)
    with h5py.File(buf, "w") as f:
        f.create_group("vars")
        for _, name, _, _, weights, _ in m.layers:
            if name not in keys:
                continue
            g = f.create_group("layers/%s/vars" % keys[name])
            for i, (_, a) in enumerate(weights[:keep(name)] if keep else weights):
                g.create_dataset(str(i), data=a)
    return buf.getvalue()


def write_keras(path, m, config=None, members=("config.json", "metadata.json", "model.weights.h5"),
                weights_bytes=None, version="3.3.3"):
    """version 2.x: a tf-keras (2.13+) archive: same layout, Keras 2
    semantics (hard_sigmoid)."""
    buf = io.BytesIO(keras3_weights(m))
    cfg = json.dumps(config if config is not None else m.config_k3())
    meta = json.dumps({"keras_version": version, "date_saved": "2024-06-11@00:00:00"})
    data = {"config.json": cfg, "metadata.json": meta,
            "model.weights.h5": weights_bytes if weights_bytes is not None else buf.getvalue()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in members:
            z.writestr(name, data[name])


# ---------------------------------------------------------------- layers
def dense(m, name, x, units, n_in, activation="linear", use_bias=True):
    k, b = rnd(n_in, units), rnd(units)
    w = [("kernel", k)] + ([("bias", b)] if use_bias else [])

    def fn(v, w, k3):
        y = v[0] @ w[0] + (w[1] if use_bias else 0.0)
        return act(activation, y, k3)
    return m.add("Dense", name, {"units": units, "activation": activation, "use_bias": use_bias}, x,
                 w, fn)


def conv(m, name, x, filters, cin, k=(3, 3), s=(1, 1), padding="valid", d=(1, 1),
         activation="linear", use_bias=True, groups=1):
    kern, b = rnd(k[0], k[1], cin // groups, filters), rnd(filters)
    w = [("kernel", kern)] + ([("bias", b)] if use_bias else [])
    cfg = {"filters": filters, "kernel_size": list(k), "strides": list(s), "padding": padding,
           "data_format": "channels_last", "dilation_rate": list(d), "groups": groups,
           "activation": activation, "use_bias": use_bias}

    def fn(v, w, k3):
        ci, co = cin // groups, filters // groups
        y = np.concatenate([conv2d(v[0][..., g * ci:(g + 1) * ci], w[0][..., g * co:(g + 1) * co],
                                   0.0, s, padding, d) for g in range(groups)], axis=-1)
        return act(activation, y + (w[1] if use_bias else 0.0), k3)
    return m.add("Conv2D", name, cfg, x, w, fn)


def batchnorm(m, name, x, ch, center=True, scale=True, eps=1e-3):
    w = []
    if scale:
        w.append(("gamma", RNG.uniform(0.5, 1.5, ch).astype(np.float32)))
    if center:
        w.append(("beta", rnd(ch)))
    w += [("moving_mean", rnd(ch)), ("moving_variance", RNG.uniform(0.2, 2.0, ch).astype(np.float32))]
    cfg = {"axis": [3], "momentum": 0.99, "epsilon": eps, "center": center, "scale": scale}

    def fn(v, w, k3):
        i = 0
        g = w[i] if scale else 1.0
        i += scale
        be = w[i] if center else 0.0
        i += center
        return (v[0] - w[i]) / np.sqrt(w[i + 1] + eps) * g + be
    return m.add("BatchNormalization", name, cfg, x, w, fn)


def simple(m, name, cls, cfg, x, fn):
    return m.add(cls, name, cfg, x, [], lambda v, w, k3: fn(v[0]))


# ---------------------------------------------------------------- cases
CASES = []   # manifest entries


def case(m, ops, run=True, keras=False, fixed_strings=False, out_dir=".", k3h5=False,
         tfkeras=False):
    files = [("h5", False)] + ([("keras", True)] if keras else []) + \
        ([("k3.h5", True)] if k3h5 else []) + ([("k2.keras", False)] if tfkeras else [])
    for i, n in enumerate(m.inputs):
        np.save(os.path.join(out_dir, "%s.in%d.npy" % (m.name, i)), m.values[n])
    for fmt, k3 in files:
        path = os.path.join(out_dir, "%s.%s" % (m.name, fmt))
        if fmt.endswith("h5"):
            write_h5(path, m, fixed_strings=fixed_strings, keras3=k3)
        else:
            write_keras(path, m, version="3.3.3" if k3 else "2.15.0")
        outs = m.evaluate(k3)
        for i, o in enumerate(outs):
            np.save(os.path.join(out_dir, "%s.%s.out%d.npy" % (m.name, fmt, i)), o)
        CASES.append({"file": "%s.%s" % (m.name, fmt), "name": m.name, "format": fmt,
                      "inputs": len(m.inputs), "outputs": len(outs), "ops": ops, "run": run})


def error_case(file, error, exact=True):
    CASES.append({"file": file, "error": error, "exact": exact})


def build(out):
    # Dense
    m = Model("dense_relu")
    x = m.input("x", [6])
    m.outputs = [dense(m, "fc", x, 4, 6, "relu")]
    case(m, [FC, RELU], keras=True, out_dir=out)
    np.save(os.path.join(out, "dense_relu.kernel.npy"), m.layers[1][4][0][1])

    m = Model("dense_nobias_softmax")
    x = m.input("x", [7])
    m.outputs = [dense(m, "fc", x, 5, 7, "softmax", use_bias=False)]
    case(m, [FC, SOFTMAX], fixed_strings=True, out_dir=out)

    # Weights stored as float64 and float16 (HDF5 converts on read).
    for nm, dt in (("dense_f64", np.float64), ("dense_f16", np.float16)):
        m = Model(nm)
        x = m.input("x", [6])
        dense(m, "fc", x, 3, 6, "relu")
        cls, name, cfg, inbound, weights, fn = m.layers[-1]
        m.layers[-1] = (cls, name, cfg, inbound, [(n, a.astype(dt)) for n, a in weights], fn)
        m.outputs = ["fc"]
        case(m, [FC, RELU], keras=(dt == np.float16), out_dir=out)

    m = Model("dense_rank3")
    x = m.input("x", [3, 5])
    m.outputs = [dense(m, "fc", x, 2, 5)]
    case(m, [FC], out_dir=out)

    # Conv2D
    m = Model("conv2d_same")
    x = m.input("x", [7, 7, 3])
    m.outputs = [conv(m, "conv", x, 4, 3, padding="same")]
    case(m, [CONV], keras=True, out_dir=out)
    np.save(os.path.join(out, "conv2d_same.kernel.npy"), m.layers[1][4][0][1])

    m = Model("conv2d_valid_s2")
    x = m.input("x", [9, 8, 2])
    m.outputs = [conv(m, "conv", x, 5, 2, k=(3, 2), s=(2, 2), activation="relu6", use_bias=False)]
    case(m, [CONV, RELU6], out_dir=out)

    m = Model("conv2d_dilated")
    x = m.input("x", [8, 8, 2])
    m.outputs = [conv(m, "conv", x, 3, 2, d=(2, 2), padding="same")]
    case(m, [CONV], out_dir=out)

    m = Model("conv2d_even_same")   # SAME with even kernels pads more at the end
    x = m.input("x", [7, 6, 2])
    m.outputs = [conv(m, "conv", x, 3, 2, k=(2, 4), s=(2, 1), padding="same")]
    case(m, [CONV], out_dir=out)

    m = Model("maxpool2d_same")
    x = m.input("x", [5, 5, 2])
    m.outputs = [simple(m, "pool", "MaxPooling2D", {"pool_size": [2, 2], "padding": "same",
                                                    "strides": None,
                                                    "data_format": "channels_last"},
                        x, lambda v: maxpool(v, (2, 2), (2, 2), "same"))]
    case(m, [MAXP], out_dir=out)

    m = Model("conv2d_groups")
    x = m.input("x", [5, 5, 4])
    m.outputs = [conv(m, "conv", x, 6, 4, padding="same", groups=2)]
    case(m, [CONV], keras=True, out_dir=out)

    # DepthwiseConv2D
    m = Model("depthwise")
    x = m.input("x", [7, 7, 3])
    k, b = rnd(3, 3, 3, 2), rnd(6)
    m.outputs = [m.add("DepthwiseConv2D", "dw",
                       {"kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                        "depth_multiplier": 2, "data_format": "channels_last",
                        "dilation_rate": [1, 1], "activation": "relu", "use_bias": True},
                       x, [("depthwise_kernel", k), ("bias", b)],
                       lambda v, w, k3: np.maximum(depthwise(v[0], w[0], w[1], (2, 2), "same"), 0))]
    case(m, [DW, RELU], keras=True, out_dir=out)
    np.save(os.path.join(out, "depthwise.kernel.npy"), k)

    # SeparableConv2D
    m = Model("separable")
    x = m.input("x", [6, 6, 3])
    dk, pk, b = rnd(3, 3, 3, 1), rnd(1, 1, 3, 4), rnd(4)
    m.outputs = [m.add("SeparableConv2D", "sep",
                       {"filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                        "data_format": "channels_last", "dilation_rate": [1, 1],
                        "depth_multiplier": 1, "activation": "relu", "use_bias": True},
                       x, [("depthwise_kernel", dk), ("pointwise_kernel", pk), ("bias", b)],
                       lambda v, w, k3: np.maximum(
                           conv2d(depthwise(v[0], w[0], 0.0, (1, 1), "same"), w[1], w[2]), 0))]
    case(m, [DW, CONV, RELU], keras=True, out_dir=out)

    # Conv1D
    for nm, pad, s in (("conv1d_valid", "valid", 1), ("conv1d_same_s2", "same", 2)):
        m = Model(nm)
        x = m.input("x", [10, 3])
        k, b = rnd(3, 3, 4), rnd(4)

        def fn(v, w, k3, pad=pad, s=s):
            y = conv2d(v[0][:, None], w[0][None], w[1], (1, s), pad)
            return y[:, 0]
        m.outputs = [m.add("Conv1D", "conv", {"filters": 4, "kernel_size": [3], "strides": [s],
                                              "padding": pad, "data_format": "channels_last",
                                              "dilation_rate": [1], "groups": 1,
                                              "activation": "linear", "use_bias": True},
                           x, [("kernel", k), ("bias", b)], fn)]
        case(m, [RESH, CONV, RESH], out_dir=out)

    # BatchNormalization
    m = Model("batchnorm")
    x = m.input("x", [4, 4, 3])
    m.outputs = [batchnorm(m, "bn", x, 3)]
    case(m, [MUL, ADD], keras=True, out_dir=out)

    m = Model("batchnorm_plain")
    x = m.input("x", [4, 4, 3])
    m.outputs = [batchnorm(m, "bn", x, 3, center=False, scale=False, eps=0.01)]
    case(m, [MUL, ADD], keras=True, out_dir=out)

    # Activation
    for a in ("relu", "relu6", "sigmoid", "tanh", "softmax", "swish", "silu", "hard_sigmoid",
              "hard_swish", "elu", "leaky_relu"):
        m = Model("act_" + a)
        x = m.input("x", [12], lo=-5.0, hi=5.0)
        m.outputs = [simple(m, "act", "Activation", {"activation": a}, x, None)]
        m.layers[-1] = m.layers[-1][:5] + (lambda v, w, k3, a=a: act(a, v[0], k3),)
        case(m, ACT_OPS[a], run=(a != "elu"), keras=a in ("hard_sigmoid", "swish"), out_dir=out,
             k3h5=(a == "hard_sigmoid"), tfkeras=(a == "hard_sigmoid"))

    # ReLU / LeakyReLU / Softmax layers
    for nm, cfg, ops, fn in (
            ("relu_plain", {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}, [RELU],
             lambda v: np.maximum(v, 0)),
            ("relu_max6", {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, [RELU6],
             relu6),
            ("relu_slope", {"max_value": None, "negative_slope": 0.1, "threshold": 0.0}, [LEAKY],
             lambda v: np.where(v > 0, v, 0.1 * v))):
        m = Model(nm)
        x = m.input("x", [10], lo=-8.0, hi=8.0)
        m.outputs = [simple(m, "relu", "ReLU", cfg, x, fn)]
        case(m, ops, out_dir=out, keras=(nm == "relu_max6"))

    m = Model("leaky_relu")
    x = m.input("x", [3, 4])
    m.outputs = [simple(m, "leaky", "LeakyReLU", {"alpha": 0.25}, x,
                        lambda v: np.where(v > 0, v, 0.25 * v))]
    case(m, [LEAKY], keras=True, out_dir=out)

    m = Model("softmax_layer")
    x = m.input("x", [2, 6])
    m.outputs = [simple(m, "sm", "Softmax", {"axis": -1}, x, softmax)]
    case(m, [SOFTMAX], out_dir=out)

    # Pooling
    m = Model("maxpool2d")
    x = m.input("x", [6, 6, 2])
    m.outputs = [simple(m, "pool", "MaxPooling2D", {"pool_size": [2, 2], "padding": "valid",
                                                    "strides": [2, 2],
                                                    "data_format": "channels_last"},
                        x, lambda v: maxpool(v, (2, 2), (2, 2), "valid"))]
    case(m, [MAXP], out_dir=out)

    m = Model("avgpool2d_same")
    x = m.input("x", [7, 7, 2])
    m.outputs = [simple(m, "pool", "AveragePooling2D", {"pool_size": [3, 3], "padding": "same",
                                                        "strides": [2, 2],
                                                        "data_format": "channels_last"},
                        x, lambda v: avgpool(v, (3, 3), (2, 2), "same"))]
    case(m, [AVG], keras=True, out_dir=out)

    m = Model("maxpool1d")
    x = m.input("x", [9, 3])
    m.outputs = [simple(m, "pool", "MaxPooling1D", {"pool_size": [2], "padding": "valid",
                                                    "strides": [2],
                                                    "data_format": "channels_last"},
                        x, lambda v: maxpool(v[:, None], (1, 2), (1, 2), "valid")[:, 0])]
    case(m, [RESH, MAXP, RESH], out_dir=out)

    m = Model("avgpool1d_same")
    x = m.input("x", [9, 3])
    m.outputs = [simple(m, "pool", "AveragePooling1D", {"pool_size": [3], "padding": "same",
                                                        "strides": [2],
                                                        "data_format": "channels_last"},
                        x, lambda v: avgpool(v[:, None], (1, 3), (1, 2), "same")[:, 0])]
    case(m, [RESH, AVG, RESH], out_dir=out)

    for nm, cls, rank, keep, ops, fn in (
            ("gap2d", "GlobalAveragePooling2D", 2, False, [MEAN], lambda v: v.mean(axis=(1, 2))),
            ("gap2d_keep", "GlobalAveragePooling2D", 2, True, [MEAN],
             lambda v: v.mean(axis=(1, 2), keepdims=True)),
            ("gap1d", "GlobalAveragePooling1D", 1, False, [MEAN], lambda v: v.mean(axis=1)),
            ("gmp2d", "GlobalMaxPooling2D", 2, False, [MAXP, RESH], lambda v: v.max(axis=(1, 2))),
            ("gmp1d", "GlobalMaxPooling1D", 1, False, [RESH, MAXP, RESH],
             lambda v: v.max(axis=1))):
        m = Model(nm)
        x = m.input("x", [5, 4, 3] if rank == 2 else [6, 3])
        m.outputs = [simple(m, "pool", cls, {"data_format": "channels_last", "keepdims": keep},
                            x, fn)]
        case(m, ops, keras=(nm == "gap2d"), out_dir=out)

    # Flatten / Reshape / Permute / ZeroPadding2D
    m = Model("flatten")
    x = m.input("x", [2, 3, 4])
    m.outputs = [simple(m, "flat", "Flatten", {"data_format": "channels_last"}, x,
                        lambda v: v.reshape(1, -1))]
    case(m, [RESH], out_dir=out)

    m = Model("reshape")
    x = m.input("x", [2, 3, 4])
    m.outputs = [simple(m, "resh", "Reshape", {"target_shape": [3, -1]}, x,
                        lambda v: v.reshape(1, 3, 8))]
    case(m, [RESH], keras=True, out_dir=out)

    m = Model("permute")
    x = m.input("x", [3, 4, 2])
    m.outputs = [simple(m, "perm", "Permute", {"dims": [2, 1, 3]}, x,
                        lambda v: v.transpose(0, 2, 1, 3))]
    case(m, [TRANS], out_dir=out)

    m = Model("zeropad2d")
    x = m.input("x", [3, 4, 2])
    m.outputs = [simple(m, "pad", "ZeroPadding2D", {"padding": [[1, 2], [0, 1]],
                                                    "data_format": "channels_last"}, x,
                        lambda v: np.pad(v, ((0, 0), (1, 2), (0, 1), (0, 0))))]
    case(m, [PAD], keras=True, out_dir=out)

    # Rescaling / Normalization
    m = Model("rescaling")
    x = m.input("x", [4, 4, 3], lo=0.0, hi=255.0)
    m.outputs = [simple(m, "rescale", "Rescaling", {"scale": 1.0 / 127.5, "offset": -1.0}, x,
                        lambda v: v * (1.0 / 127.5) - 1.0)]
    case(m, [MUL, ADD], keras=True, out_dir=out)

    m = Model("rescaling_scale_only")
    x = m.input("x", [5], lo=0.0, hi=255.0)
    m.outputs = [simple(m, "rescale", "Rescaling", {"scale": 1.0 / 255.0, "offset": 0.0}, x,
                        lambda v: v * (1.0 / 255.0))]
    case(m, [MUL], out_dir=out)

    m = Model("normalization")
    x = m.input("x", [3, 4], lo=-3.0, hi=5.0)
    mean, var = rnd(4, scale=2.0), RNG.uniform(0.5, 4.0, 4).astype(np.float32)
    m.outputs = [m.add("Normalization", "norm", {"axis": [-1], "mean": None, "variance": None},
                       x, [("mean", mean), ("variance", var),
                           ("count", np.array(100, dtype=np.int64))],
                       lambda v, w, k3: (v[0] - w[0]) / np.maximum(np.sqrt(w[1]), 1e-7))]
    case(m, [MUL, ADD], keras=True, out_dir=out)

    # Dropout / GaussianNoise are dropped
    m = Model("dropout")
    x = m.input("x", [6])
    h = dense(m, "fc1", x, 5, 6, "tanh")
    h = simple(m, "drop", "Dropout", {"rate": 0.5, "noise_shape": None, "seed": None}, h,
               lambda v: v)
    h = simple(m, "noise", "GaussianNoise", {"stddev": 0.1}, h, lambda v: v)
    m.outputs = [dense(m, "fc2", h, 3, 5)]
    case(m, [FC, TANH, FC], out_dir=out)

    # Merges in a Functional graph
    m = Model("merge")
    x = m.input("x", [4, 4, 2])
    c1 = conv(m, "c1", x, 3, 2, k=(1, 1))
    c2 = conv(m, "c2", x, 3, 2, k=(1, 1))
    a = m.add("Add", "add", {}, [c1, c2], [], lambda v, w, k3: v[0] + v[1])
    s = m.add("Subtract", "sub", {}, [c1, c2], [], lambda v, w, k3: v[0] - v[1])
    p = m.add("Multiply", "mul", {}, [a, s], [], lambda v, w, k3: v[0] * v[1])
    m.outputs = [m.add("Concatenate", "cat", {"axis": -1}, [p, c1], [],
                       lambda v, w, k3: np.concatenate(v, axis=-1))]
    case(m, [CONV, CONV, ADD, SUB, MUL, CAT], keras=True, out_dir=out, k3h5=True)

    # Two inputs, a three-way Add, two outputs
    m = Model("two_inputs")
    a = m.input("a", [5])
    b = m.input("b", [5])
    s = m.add("Add", "sum3", {}, [a, b, a], [], lambda v, w, k3: v[0] + v[1] + v[2])
    d = dense(m, "fc", s, 2, 5, "sigmoid")
    m.outputs = [d, s]
    case(m, [ADD, ADD, FC, LOG], keras=True, out_dir=out)

    # A small ResNet-like block (layers listed out of order: the importer
    # must sort them)
    m = Model("resblock")
    x = m.input("x", [6, 6, 3])
    c = conv(m, "c0", x, 4, 3, padding="same")
    bn = batchnorm(m, "bn0", c, 4)
    r = simple(m, "r0", "Activation", {"activation": "relu"}, bn, lambda v: np.maximum(v, 0))
    c2 = conv(m, "c1", r, 4, 4, padding="same")
    sc = conv(m, "short", x, 4, 3, k=(1, 1))
    a = m.add("Add", "add", {}, [sc, c2], [], lambda v, w, k3: v[0] + v[1])
    g = simple(m, "gap", "GlobalAveragePooling2D", {"data_format": "channels_last"}, a,
               lambda v: v.mean(axis=(1, 2)))
    m.outputs = [dense(m, "head", g, 3, 4, "softmax")]
    # Functional lists by depth; move 'short' last to test the ordering.
    short = [l for l in m.layers if l[1] == "short"][0]
    m.layers.remove(short)
    m.layers.append(short)
    case(m, [CONV, MUL, ADD, RELU, CONV, CONV, ADD, MEAN, FC, SOFTMAX], keras=True, out_dir=out)

    # Sequential, with and without an InputLayer
    m = Model("seq_cnn", sequential=True)
    x = m.input("input", [8, 8, 1])
    h = conv(m, "conv", x, 4, 1, activation="relu")
    h = batchnorm(m, "bn", h, 4)
    h = simple(m, "pool", "MaxPooling2D", {"pool_size": [2, 2], "padding": "valid",
                                           "strides": [2, 2], "data_format": "channels_last"},
               h, lambda v: maxpool(v, (2, 2), (2, 2), "valid"))
    h = simple(m, "flat", "Flatten", {"data_format": "channels_last"}, h,
               lambda v: v.reshape(1, -1))
    m.outputs = [dense(m, "out", h, 3, 36, "softmax")]
    case(m, [CONV, RELU, MUL, ADD, MAXP, RESH, FC, SOFTMAX], keras=True, out_dir=out, k3h5=True)

    m = Model("seq_legacy", sequential=True)
    m.inputs = ["x"]
    m.values["x"] = RNG.uniform(-1, 1, (1, 4)).astype(np.float32)
    h = dense(m, "d1", "x", 3, 4, "relu")
    m.layers[0][2]["batch_input_shape"] = [None, 4]
    m.outputs = [dense(m, "d2", h, 2, 3)]
    case(m, [FC, RELU, FC], out_dir=out)

    # Deep stacks: the IR's tensor array grows (reallocates) inside layers.
    m = Model("deep_dense", sequential=True)
    h = m.input("x", [4])
    for i in range(24):
        h = dense(m, "d%d" % i, h, 4, 4, "tanh" if i % 3 == 0 else "linear")
    m.outputs = [h]
    case(m, sum(([FC, TANH] if i % 3 == 0 else [FC] for i in range(24)), []), out_dir=out)

    m = Model("deep_pad")
    h = m.input("x", [2, 2, 1])
    # One single-tensor layer first so that PAD's constants land on the
    # array's growth points (32, 64).
    h = simple(m, "r", "Activation", {"activation": "relu"}, h, lambda v: np.maximum(v, 0))
    for i in range(40):
        h = simple(m, "p%d" % i, "ZeroPadding2D", {"padding": [[0, 0], [0, 1]],
                                                   "data_format": "channels_last"}, h,
                   lambda v: np.pad(v, ((0, 0), (0, 0), (0, 1), (0, 0))))
    m.outputs = [h]
    case(m, [RELU] + [PAD] * 40, out_dir=out)

    m = Model("seq_list_config", sequential=True)
    x = m.input("x", [3])
    m.outputs = [dense(m, "d", x, 2, 3, "tanh")]
    case(m, [FC, TANH], out_dir=out)
    write_h5(os.path.join(out, "seq_list_config.h5"), m,
             config={"class_name": "Sequential",
                     "config": [{"class_name": c, "config": cfg} for c, _, cfg, _, _, _ in m.layers]})

    build_errors(out)
    build_mutants(out)


def build_errors(out):
    p = lambda n: os.path.join(out, n)

    def tiny():
        m = Model("tiny")
        x = m.input("x", [4])
        m.outputs = [dense(m, "fc", x, 2, 4)]
        return m

    m = tiny()
    with h5py.File(p("err_no_config.h5"), "w") as f:
        f.create_group("model_weights")
    error_case("err_no_config.h5", "has no 'model_config' attribute", exact=False)

    write_h5(p("err_missing_group.h5"), m, mutate=lambda f: f["model_weights"].__delitem__("fc"))
    error_case("err_missing_group.h5",
               "layer 'fc' (Dense): weight group 'model_weights/fc' is missing")

    write_h5(p("err_missing_weight.h5"), m,
             mutate=lambda f: f["model_weights/fc/fc"].__delitem__("bias:0"))
    error_case("err_missing_weight.h5", "layer 'fc' (Dense): weight 'bias' is missing")

    def bad_shape(f):
        del f["model_weights/fc/fc/kernel:0"]
        f["model_weights/fc/fc"].create_dataset("kernel:0", data=np.zeros((3, 2), np.float32))
    write_h5(p("err_wrong_shape.h5"), m, mutate=bad_shape)
    error_case("err_wrong_shape.h5",
               "layer 'fc' (Dense): weight 'kernel' has shape [3,2], expected [4,2]")

    write_h5(p("err_bad_json.h5"), m, config=None,
             mutate=lambda f: f.attrs.__setitem__("model_config", '{"class_name": "Functional", '))
    error_case("err_bad_json.h5", "the model config is not valid JSON", exact=False)

    write_h5(p("err_truncated_src.h5"), m)
    data = open(p("err_truncated_src.h5"), "rb").read()
    open(p("err_truncated.h5"), "wb").write(data[:len(data) // 2])
    os.remove(p("err_truncated_src.h5"))
    error_case("err_truncated.h5", "truncated or corrupt", exact=False)

    u = tiny()
    u.layers[1] = ("Lambda",) + u.layers[1][1:]
    write_h5(p("err_unknown_layer.h5"), u)
    error_case("err_unknown_layer.h5", "layer 'fc' (Lambda): layer class 'Lambda' is not supported")

    c = Model("cf")
    x = c.input("x", [3, 5, 5])
    conv(c, "conv3", x, 2, 3)
    c.layers[1][2]["data_format"] = "channels_first"
    c.outputs = ["conv3"]
    write_h5(p("err_channels_first.h5"), c)
    error_case("err_channels_first.h5",
               "layer 'conv3' (Conv2D): data_format 'channels_first' is not supported")

    r = Model("r")
    x = r.input("x", [4])
    simple(r, "relu", "ReLU", {"max_value": 3.0, "negative_slope": 0.0, "threshold": 0.0}, x, None)
    r.outputs = ["relu"]
    write_h5(p("err_relu_max3.h5"), r)
    error_case("err_relu_max3.h5", "layer 'relu' (ReLU): max_value 3 is not supported "
                                   "(only none, or 6 with negative_slope 0)")

    a = Model("a")
    x = a.input("x", [4])
    simple(a, "act", "Activation", {"activation": "gelu"}, x, None)
    a.outputs = ["act"]
    write_h5(p("err_gelu.h5"), a)
    error_case("err_gelu.h5", "layer 'act' (Activation): activation 'gelu' is not supported")

    s = tiny()
    cfg = s.config_k2()
    fc = cfg["config"]["layers"][1]
    fc["inbound_nodes"] = [[["x", 0, 0, {}]], [["x", 0, 0, {}]]]
    write_h5(p("err_shared.h5"), s, config=cfg)
    error_case("err_shared.h5",
               "layer 'fc' (Dense): shared layers (called 2 times) are not supported")

    d = tiny()
    cfg = d.config_k2()
    cfg["config"]["layers"][1]["inbound_nodes"] = [[["nowhere", 0, 0, {}]]]
    write_h5(p("err_dangling.h5"), d, config=cfg)
    error_case("err_dangling.h5", "layer 'fc' (Dense): its input 'nowhere' is not produced by "
                                  "any layer (missing layer or cycle)")

    n = Model("n")
    n.layers.append(("InputLayer", "x", {"batch_input_shape": [None, None, 4],
                                         "dtype": "float32", "name": "x"}, [], [], None))
    n.inputs = n.outputs = ["x"]
    write_h5(p("err_unknown_dim.h5"), n)
    error_case("err_unknown_dim.h5", "layer 'x' (InputLayer): input dimension 1 is unknown "
                                     "(None); give the model a fixed input shape")

    i = tiny()
    i.layers[0][2]["dtype"] = "int32"
    write_h5(p("err_int_input.h5"), i)
    error_case("err_int_input.h5", "layer 'x' (InputLayer): input dtype 'int32' is not supported "
                                   "(only float32)")

    q = tiny()
    cfg = q.config_k3()
    cfg["config"]["layers"][1]["config"]["dtype"] = {
        "module": "keras", "class_name": "QuantizedDTypePolicy",
        "config": {"name": "int8_from_float32", "source_name": "float32"}}
    write_keras(p("err_quantized.keras"), q, config=cfg)
    error_case("err_quantized.keras", "layer 'fc' (Dense): quantized Keras layers (dtype "
                                      "'int8_from_float32') are not supported")

    write_keras(p("err_no_config.keras"), tiny(), members=("metadata.json", "model.weights.h5"))
    error_case("err_no_config.keras", "has no config.json", exact=False)

    write_keras(p("err_bad_weights.keras"), tiny(), weights_bytes=b"\x89HDF\r\n\x1a\n" + b"x" * 200)
    error_case("err_bad_weights.keras", "truncated or corrupt", exact=False)

    write_keras(p("err_missing_var.keras"), tiny(),
                weights_bytes=_weights_without(tiny(), "fc"))
    error_case("err_missing_var.keras", "layer 'fc' (Dense): weight 'bias' (layers/dense/vars/1) "
                                        "is missing")

    write_keras(p("err_trunc_src.keras"), tiny())
    data = open(p("err_trunc_src.keras"), "rb").read()
    open(p("err_truncated.keras"), "wb").write(data[:len(data) // 2])
    os.remove(p("err_trunc_src.keras"))
    error_case("err_truncated.keras", "zip", exact=False)

    open(p("err_garbage.h5"), "wb").write(b"this is not a model\n" * 8)
    error_case("err_garbage.h5", "is neither a Keras HDF5 file nor a .keras archive", exact=False)

    open(p("err_empty.h5"), "wb").write(b"")
    error_case("err_empty.h5", "is neither a Keras HDF5 file nor a .keras archive", exact=False)


def build_mutants(out, count=200):
    """Seeded random edits of valid fixtures' model_config (a value replaced
    by a hostile one, or a key deleted): mut_NNN.h5.  The importer must
    answer each with success or one line of error, never a crash."""
    rng = np.random.default_rng(7)
    srcs = ["resblock.h5", "seq_cnn.h5", "conv1d_same_s2.h5", "separable.h5", "merge.h5",
            "zeropad2d.h5", "permute.h5", "reshape.h5", "gmp2d.h5", "avgpool1d_same.h5",
            "normalization.h5", "depthwise.h5", "dense_rank3.h5", "two_inputs.h5"]
    hostile = [0, -1, -5, 1, 2, 3, 65536, 65537, 10**9, 2**31, 1e300, -1e300, 0.5, None, True,
               "same", "x", [], [0], [1, 1], [[1, 2], [3, 4]], {}, [10**9, 10**9], [-1, -1]]

    def paths(x, p, acc):
        items = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else []
        for k, v in items:
            acc.append(p + [k])
            paths(v, p + [k], acc)
        return acc

    for n in range(count):
        src = srcs[n % len(srcs)]
        with h5py.File(os.path.join(out, src), "r") as f:
            cfg = json.loads(f.attrs["model_config"])
        for _ in range(int(rng.integers(1, 4))):
            ps = paths(cfg, [], [])
            path = ps[int(rng.integers(len(ps)))]
            t = cfg
            for k in path[:-1]:
                t = t[k]
            if isinstance(t, dict) and rng.random() < 0.1:
                del t[path[-1]]
            else:
                t[path[-1]] = hostile[int(rng.integers(len(hostile)))]
        dst = os.path.join(out, "mut_%03d.h5" % n)
        with open(os.path.join(out, src), "rb") as a, open(dst, "wb") as b:
            b.write(a.read())
        with h5py.File(dst, "r+") as f:
            f.attrs["model_config"] = json.dumps(cfg)


def _weights_without(m, layer):
    """A model.weights.h5 whose `layer` keeps only its first variable."""
    return keras3_weights(m, keep=lambda n: 1 if n == layer else None)


# ---------------------------------------------------------------- real models
REAL = (("ad01", "ad01_fp32"), ("pretrainedResnet", "pretrainedResnet"),
        ("vww_96", "vww_96_float"))


def eval_keras2(path, x):
    """Evaluates a Keras 2 Functional .h5 in numpy (float64), by its config
    and weights alone: the independent reference for the real models."""
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])["config"]
        vals = {}
        todo = list(cfg["layers"])
        while todo:
            for l in list(todo):
                refs = [r[0] for r in l["inbound_nodes"][0]] if l["inbound_nodes"] else []
                if not all(r in vals for r in refs):
                    continue
                todo.remove(l)
                c, lc, name = l["class_name"], l["config"], l["config"]["name"]
                g = f["model_weights"][name]
                w = [np.array(g[n.decode()], np.float64) for n in g.attrs["weight_names"]] \
                    if len(g.attrs["weight_names"]) else []
                v = [vals[r] for r in refs]
                if c == "InputLayer":
                    y = x.astype(np.float64)
                elif c == "Conv2D":
                    y = conv2d(v[0], w[0], w[1], lc["strides"], lc["padding"], lc["dilation_rate"])
                elif c == "DepthwiseConv2D":
                    y = depthwise(v[0], w[0], w[1], lc["strides"], lc["padding"],
                                  lc["dilation_rate"])
                elif c == "Dense":
                    y = v[0] @ w[0] + w[1]
                elif c == "BatchNormalization":
                    y = (v[0] - w[2]) / np.sqrt(w[3] + lc["epsilon"]) * w[0] + w[1]
                elif c == "Add":
                    y = sum(v)
                elif c == "AveragePooling2D":
                    y = avgpool(v[0], lc["pool_size"], lc["strides"], lc["padding"])
                elif c == "Flatten":
                    y = v[0].reshape(1, -1)
                elif c != "Activation":
                    raise ValueError("eval_keras2: " + c)
                if "activation" in lc:
                    y = act(lc["activation"], y if c != "Activation" else v[0])
                vals[name] = y
        return vals[cfg["output_layers"][0][0]].astype(np.float32)


def build_real(out, shared):
    for model, golden in REAL:
        h5 = os.path.join(shared, "models", "mlperf-tiny", model + ".h5")
        if not os.path.exists(h5):
            continue
        for seed in (1, 2, 3):
            x = np.fromfile(os.path.join(shared, "goldens", golden, "seed%d.input.bin" % seed),
                            dtype=np.float32)
            with h5py.File(h5, "r") as f:
                shape = json.loads(f.attrs["model_config"])["config"]["layers"][0]["config"][
                    "batch_input_shape"]
            y = eval_keras2(h5, x.reshape([1] + shape[1:]))
            np.save(os.path.join(out, "real_%s.seed%d.out.npy" % (model, seed)), y)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_fixtures.py OUT_DIR [SHARED_DIR]")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    build(out)
    if len(sys.argv) == 3:
        build_real(out, sys.argv[2])
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"cases": CASES}, f, indent=1)
    print("%d cases in %s" % (len(CASES), out))


if __name__ == "__main__":
    main()
