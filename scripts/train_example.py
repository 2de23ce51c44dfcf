#!/usr/bin/python3
"""Trains the bundled example model: a small CNN on scikit-learn's 8x8 digits.

Runs with Debian's /usr/bin/python3 and its packages python3-numpy,
python3-h5py and python3-sklearn (scripts/install-deps.sh installs them);
no TensorFlow or Keras.

    /usr/bin/python3 scripts/train_example.py [OUT_DIR]   (default examples/digits)

Writes into OUT_DIR:
  model.h5         the trained model in exactly the layout Keras 2.4 writes
                   with model.save('model.h5', include_optimizer=False):
                   root attributes backend, keras_version and model_config
                   (the JSON of a Functional model, with the layer configs
                   Keras writes); group model_weights with attributes
                   backend, keras_version, layer_names, and per layer a group
                   whose weight_names attribute lists "<layer>/<weight>:0"
                   and whose datasets live at <layer>/<layer>/<weight>:0.
  calibration.npy  300 training images, float32 (300, 8, 8, 1): the
                   representative dataset for int8 conversion
  test_x.npy       the 360 held-out images, float32 (360, 8, 8, 1)
  test_y.npy       their labels 0..9, int32 (360,)
  train_log.txt    loss and accuracy per epoch, and the final test accuracy

Model (Functional; inputs are pixel values / 16, in [0, 1]):
  input_1 [8, 8, 1] -> conv2d 3x3 x16 same -> batch_normalization ->
  activation (relu) -> max_pooling2d 2x2 -> flatten [256] ->
  dense 64 (relu) -> dropout 0.2 -> dense_1 10 (softmax)
(about 17k weights: big enough that the int8 file is ~4x smaller than the
float one, as in the seed, small enough to train in seconds.)
Training: Adam (lr 0.005, betas 0.9/0.999, eps 1e-7, as Keras), batch 32,
12 epochs, cross-entropy, He-normal initialization, inverted dropout, all
written here in numpy (float32 forward/backward); batch normalization uses
batch statistics while training, and its moving mean/variance are then set
to the exact statistics over the whole training set.  Everything is
seeded: the same numpy/sklearn give the same bytes.
"""
import json
import os
import sys

import h5py
import numpy as np
from sklearn.datasets import load_digits

SEED = 20241125
EPOCHS = 12
BATCH = 32
LR = 0.005
BN_EPS = 1e-3          # Keras BatchNormalization default epsilon
N_TEST = 360
N_CALIB = 300
FILTERS = 16
HIDDEN = 64
DROPOUT = 0.2
CLASSES = 10


# ---------------------------------------------------------------- data
def load_data(rng):
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[..., None]      # (1797, 8, 8, 1)
    y = d.target.astype(np.int32)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    return x[N_TEST:], y[N_TEST:], x[:N_TEST], y[:N_TEST]


# ---------------------------------------------------------------- layers
def im2col3x3(x):
    """'same' 3x3 patches of NHWC x: (N, H, W, 9*C), ordered (dy, dx, c) as
    a Keras kernel [3, 3, C, F] reshaped to [9*C, F]."""
    n, h, w, c = x.shape
    p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = [p[:, dy:dy + h, dx:dx + w, :] for dy in range(3) for dx in range(3)]
    return np.concatenate(cols, axis=3)


def col2im3x3(dcols, c):
    """Adjoint of im2col3x3: sums patch gradients back into the input."""
    n, h, w, _ = dcols.shape
    dp = np.zeros((n, h + 2, w + 2, c), np.float32)
    k = 0
    for dy in range(3):
        for dx in range(3):
            dp[:, dy:dy + h, dx:dx + w, :] += dcols[..., k * c:(k + 1) * c]
            k += 1
    return dp[:, 1:-1, 1:-1, :]


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Net:
    def __init__(self, rng):
        # He normal, as the reference models' initializers.
        def he(shape, fan_in):
            return (rng.standard_normal(shape) *
                    np.sqrt(2.0 / fan_in)).astype(np.float32)
        flat = 4 * 4 * FILTERS
        self.p = {
            "conv_k": he((3, 3, 1, FILTERS), 9),
            "conv_b": np.zeros(FILTERS, np.float32),
            "gamma": np.ones(FILTERS, np.float32),
            "beta": np.zeros(FILTERS, np.float32),
            "fc1_k": he((flat, HIDDEN), flat),
            "fc1_b": np.zeros(HIDDEN, np.float32),
            "fc2_k": he((HIDDEN, CLASSES), HIDDEN),
            "fc2_b": np.zeros(CLASSES, np.float32),
        }
        self.mean = np.zeros(FILTERS, np.float32)
        self.var = np.ones(FILTERS, np.float32)

    def conv(self, x):
        cols = im2col3x3(x)
        k = self.p["conv_k"].reshape(9, FILTERS)
        return cols, cols @ k + self.p["conv_b"]

    def pool(self, a):
        """relu output -> maxpool 2x2 -> flatten (channels_last order)."""
        n = a.shape[0]
        w = a.reshape(n, 4, 2, 4, 2, FILTERS)
        pooled = w.max(axis=(2, 4))
        return w, pooled, pooled.reshape(n, -1)

    def predict(self, x):
        """Inference, as Keras (and the converted model) computes it:
        batch normalization with the moving statistics, no dropout."""
        _, z = self.conv(x)
        y = (z - self.mean) / np.sqrt(self.var + BN_EPS) * self.p["gamma"] + \
            self.p["beta"]
        flat = self.pool(np.maximum(y, 0))[2]
        h = np.maximum(flat @ self.p["fc1_k"] + self.p["fc1_b"], 0)
        return softmax(h @ self.p["fc2_k"] + self.p["fc2_b"])

    def step_grads(self, x, labels, rng):
        """Training forward (batch statistics, dropout) and backward;
        returns loss, accuracy and gradients."""
        n = x.shape[0]
        cols, z = self.conv(x)
        mu = z.mean(axis=(0, 1, 2))
        var = z.var(axis=(0, 1, 2))
        inv = 1.0 / np.sqrt(var + BN_EPS)
        xhat = (z - mu) * inv
        y = xhat * self.p["gamma"] + self.p["beta"]
        a = np.maximum(y, 0)
        w, pooled, flat = self.pool(a)
        h_pre = flat @ self.p["fc1_k"] + self.p["fc1_b"]
        h = np.maximum(h_pre, 0)
        # Inverted dropout, as Keras: kept units scaled by 1 / (1 - rate).
        keep = (rng.random(h.shape) >= DROPOUT).astype(np.float32) / \
            (1.0 - DROPOUT)
        hd = h * keep
        prob = softmax(hd @ self.p["fc2_k"] + self.p["fc2_b"])
        loss = -np.mean(np.log(prob[np.arange(n), labels] + 1e-12))
        acc = np.mean(prob.argmax(axis=1) == labels)

        g = {}
        dlogits = prob.copy()
        dlogits[np.arange(n), labels] -= 1
        dlogits /= n
        g["fc2_k"] = hd.T @ dlogits
        g["fc2_b"] = dlogits.sum(axis=0)
        dh = (dlogits @ self.p["fc2_k"].T) * keep * (h_pre > 0)
        g["fc1_k"] = flat.T @ dh
        g["fc1_b"] = dh.sum(axis=0)
        dpooled = (dh @ self.p["fc1_k"].T).reshape(pooled.shape)
        # Max pooling routes the gradient to the window's maximum.
        mask = w == pooled[:, :, None, :, None, :]
        da = (mask * dpooled[:, :, None, :, None, :]).reshape(a.shape)
        dy = da * (y > 0)
        g["gamma"] = (dy * xhat).sum(axis=(0, 1, 2))
        g["beta"] = dy.sum(axis=(0, 1, 2))
        m = n * 64
        dxhat = dy * self.p["gamma"]
        dz = inv / m * (m * dxhat - dxhat.sum(axis=(0, 1, 2)) -
                        xhat * (dxhat * xhat).sum(axis=(0, 1, 2)))
        g["conv_k"] = (cols.reshape(-1, 9).T @ dz.reshape(-1, FILTERS)) \
            .reshape(3, 3, 1, FILTERS)
        g["conv_b"] = dz.sum(axis=(0, 1, 2))
        return loss, acc, g

    def set_bn_statistics(self, x):
        """Moving mean/variance := the training set's exact statistics."""
        _, z = self.conv(x)
        self.mean = z.mean(axis=(0, 1, 2)).astype(np.float32)
        self.var = z.var(axis=(0, 1, 2)).astype(np.float32)


class Adam:
    def __init__(self, params):
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def update(self, params, grads, lr=LR, b1=0.9, b2=0.999, eps=1e-7):
        self.t += 1
        for k in params:
            self.m[k] = b1 * self.m[k] + (1 - b1) * grads[k]
            self.v[k] = b2 * self.v[k] + (1 - b2) * grads[k] ** 2
            mh = self.m[k] / (1 - b1 ** self.t)
            vh = self.v[k] / (1 - b2 ** self.t)
            params[k] = (params[k] - lr * mh / (np.sqrt(vh) + eps)) \
                .astype(np.float32)


# ---------------------------------------------------------------- Keras HDF5
def initializer(name):
    return {"class_name": name, "config": {"seed": None} if name == "HeNormal"
            else {}}


def model_config():
    def layer(cls, name, cfg, inbound):
        return {"class_name": cls, "config": dict({"name": name,
                                                   "trainable": True,
                                                   "dtype": "float32"}, **cfg),
                "name": name,
                "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}

    def dense(name, units, activation, inbound):
        return layer("Dense", name, {
            "units": units, "activation": activation, "use_bias": True,
            "kernel_initializer": initializer("HeNormal"),
            "bias_initializer": initializer("Zeros"),
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}, inbound)

    layers = [
        {"class_name": "InputLayer",
         "config": {"batch_input_shape": [None, 8, 8, 1], "dtype": "float32",
                    "sparse": False, "ragged": False, "name": "input_1"},
         "name": "input_1", "inbound_nodes": []},
        layer("Conv2D", "conv2d", {
            "filters": FILTERS, "kernel_size": [3, 3], "strides": [1, 1],
            "padding": "same", "data_format": "channels_last",
            "dilation_rate": [1, 1], "groups": 1, "activation": "linear",
            "use_bias": True, "kernel_initializer": initializer("HeNormal"),
            "bias_initializer": initializer("Zeros"),
            "kernel_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}, "input_1"),
        layer("BatchNormalization", "batch_normalization", {
            "axis": [3], "momentum": 0.99, "epsilon": BN_EPS, "center": True,
            "scale": True, "beta_initializer": initializer("Zeros"),
            "gamma_initializer": initializer("Ones"),
            "moving_mean_initializer": initializer("Zeros"),
            "moving_variance_initializer": initializer("Ones"),
            "beta_regularizer": None, "gamma_regularizer": None,
            "beta_constraint": None, "gamma_constraint": None}, "conv2d"),
        layer("Activation", "activation", {"activation": "relu"},
              "batch_normalization"),
        layer("MaxPooling2D", "max_pooling2d", {
            "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
            "data_format": "channels_last"}, "activation"),
        layer("Flatten", "flatten", {"data_format": "channels_last"},
              "max_pooling2d"),
        dense("dense", HIDDEN, "relu", "flatten"),
        layer("Dropout", "dropout", {"rate": DROPOUT, "noise_shape": None,
                                     "seed": None}, "dense"),
        dense("dense_1", CLASSES, "softmax", "dropout"),
    ]
    return {"class_name": "Functional",
            "config": {"name": "model", "layers": layers,
                       "input_layers": [["input_1", 0, 0]],
                       "output_layers": [["dense_1", 0, 0]]},
            "keras_version": "2.4.0", "backend": "tensorflow"}


def vlen(obj, name, text, cset):
    """A scalar variable-length string attribute (Keras 2.4 via h5py 2.10:
    str -> UTF-8, bytes -> ASCII)."""
    obj.attrs.create(name, text.encode(cset) if cset == "ascii" else text,
                     dtype=h5py.string_dtype(cset))


def save_keras_h5(path, net):
    weights = {
        "input_1": [],
        "conv2d": [("kernel", net.p["conv_k"]), ("bias", net.p["conv_b"])],
        "batch_normalization": [("gamma", net.p["gamma"]),
                                ("beta", net.p["beta"]),
                                ("moving_mean", net.mean),
                                ("moving_variance", net.var)],
        "activation": [], "max_pooling2d": [], "flatten": [],
        "dense": [("kernel", net.p["fc1_k"]), ("bias", net.p["fc1_b"])],
        "dropout": [],
        "dense_1": [("kernel", net.p["fc2_k"]), ("bias", net.p["fc2_b"])],
    }
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        vlen(f, "backend", "tensorflow", "utf-8")
        vlen(f, "keras_version", "2.4.0", "utf-8")
        vlen(f, "model_config", json.dumps(model_config()), "ascii")
        mw = f.create_group("model_weights")
        vlen(mw, "backend", "tensorflow", "ascii")
        vlen(mw, "keras_version", "2.4.0", "ascii")
        # Fixed-length byte strings, as numpy makes of a list of bytes.
        mw.attrs["layer_names"] = np.array([n.encode() for n in weights])
        for lname, ws in weights.items():
            g = mw.create_group(lname)
            names = ["%s/%s:0" % (lname, w) for w, _ in ws]
            # A layer without weights: an empty float64 array, as Keras.
            g.attrs["weight_names"] = (np.array([n.encode() for n in names])
                                       if names else np.array([]))
            for (w, value), full in zip(ws, names):
                g.create_dataset(full, data=np.asarray(value, np.float32))
    os.replace(tmp, path)


# ---------------------------------------------------------------- main
def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "examples", "digits")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    xtr, ytr, xte, yte = load_data(rng)
    net = Net(rng)
    opt = Adam(net.p)
    log = []
    for epoch in range(EPOCHS):
        order = rng.permutation(len(xtr))
        losses, accs = [], []
        for s in range(0, len(order), BATCH):
            idx = order[s:s + BATCH]
            loss, acc, g = net.step_grads(xtr[idx], ytr[idx], rng)
            opt.update(net.p, g)
            losses.append(loss)
            accs.append(acc)
        log.append("epoch %2d: loss %.4f, train accuracy %.4f" %
                   (epoch + 1, float(np.mean(losses)), float(np.mean(accs))))
        print(log[-1])
    net.set_bn_statistics(xtr)
    train_acc = float(np.mean(net.predict(xtr).argmax(axis=1) == ytr))
    test_acc = float(np.mean(net.predict(xte).argmax(axis=1) == yte))
    log.append("inference (moving statistics): train accuracy %.4f (%d), "
               "test accuracy %.4f (%d of %d)" %
               (train_acc, len(xtr), test_acc,
                int(round(test_acc * len(xte))), len(xte)))
    print(log[-1])

    save_keras_h5(os.path.join(out, "model.h5"), net)
    calib = xtr[rng.permutation(len(xtr))[:N_CALIB]]
    np.save(os.path.join(out, "calibration.npy"), calib.astype(np.float32))
    np.save(os.path.join(out, "test_x.npy"), xte.astype(np.float32))
    np.save(os.path.join(out, "test_y.npy"), yte.astype(np.int32))
    # The numpy model's own predictions, for checking a conversion.
    np.save(os.path.join(out, "test_probs.npy"),
            net.predict(xte).astype(np.float32))
    with open(os.path.join(out, "train_log.txt"), "w") as f:
        f.write("\n".join(log) + "\n")


if __name__ == "__main__":
    main()
