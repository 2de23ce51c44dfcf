"""Dump a TFLite file with the flatbuffers python runtime (independent of
tinyml's reader): one line per fact, for tests/convert/test_writer_python.sh.
usage: /usr/bin/python3 tflite_dump.py MODEL.tflite"""
import sys
from flatbuffers import encode, number_types as N
from flatbuffers.table import Table
from flatbuffers.util import BufferHasIdentifier


def root(buf):
    return Table(buf, encode.Get(N.UOffsetTFlags.packer_type, buf, 0))


def off(t, i):
    return t.Offset(4 + 2 * i)


def tables(t, i):
    o = off(t, i)
    if not o:
        return []
    n, s = t.VectorLen(o), t.Vector(o)
    return [Table(t.Bytes, t.Indirect(s + 4 * k)) for k in range(n)]


def vec(t, i, f=N.Int32Flags):
    o = off(t, i) if t else 0
    if not o:
        return None
    n, s = t.VectorLen(o), t.Vector(o)
    return [t.Get(f, s + f.bytewidth * k) for k in range(n)]


def vec_start(t, i):
    o = off(t, i)
    return t.Vector(o) if o else None


def sc(t, i, f, d=0):
    o = off(t, i) if t else 0
    return t.Get(f, o + t.Pos) if o else d


def sub(t, i):
    o = off(t, i)
    return Table(t.Bytes, t.Indirect(o + t.Pos)) if o else None


def string(t, i):
    o = off(t, i)
    return t.String(o + t.Pos).decode() if o else None


# Option tables as schema.fbs declares them: (name, flags, default) by
# field id; flags None = [int] vector.
I8, I32, F32, B = N.Int8Flags, N.Int32Flags, N.Float32Flags, N.BoolFlags
OPTIONS = {
    1: [('padding', I8, 0), ('stride_w', I32, 0), ('stride_h', I32, 0),
        ('act', I8, 0), ('dilation_w', I32, 1), ('dilation_h', I32, 1)],
    2: [('padding', I8, 0), ('stride_w', I32, 0), ('stride_h', I32, 0),
        ('depth_multiplier', I32, 0), ('act', I8, 0), ('dilation_w', I32, 1),
        ('dilation_h', I32, 1)],
    5: [('padding', I8, 0), ('stride_w', I32, 0), ('stride_h', I32, 0),
        ('filter_w', I32, 0), ('filter_h', I32, 0), ('act', I8, 0)],
    8: [('act', I8, 0), ('weights_format', I8, 0), ('keep_num_dims', B, False)],
    9: [('beta', F32, 0.0)],
    11: [('act', I8, 0), ('pot_scale_int16', B, True)],
    17: [('new_shape', None, None)],
    75: [('alpha', F32, 0.0)],
}


def option_values(opt, typ):
    vals = []
    for i, (name, flags, default) in enumerate(OPTIONS.get(typ, [])):
        if flags is None:
            vals.append('%s=%s' % (name, vec(opt, i)))
        else:
            v = sc(opt, i, flags, default)
            vals.append('%s=%s' % (name, ('%.9g' % v) if flags is F32 else v))
    return ' '.join(vals)


def main(path):
    buf = bytearray(open(path, 'rb').read())
    print('identifier', 'TFL3' if BufferHasIdentifier(buf, 0, b'TFL3') else 'none')
    print('size_mod16', len(buf) % 16)
    m = root(buf)
    print('version', sc(m, 0, N.Uint32Flags))
    print('description', string(m, 3))
    for k, oc in enumerate(tables(m, 1)):
        print('opcode', k, 'deprecated', sc(oc, 0, N.Int8Flags),
              'builtin', sc(oc, 3, N.Int32Flags), 'version', sc(oc, 2, N.Int32Flags, 1))
    bufs = tables(m, 4)
    for k, b in enumerate(bufs):
        data = vec(b, 0, N.Uint8Flags)
        start = vec_start(b, 0)
        print('buffer', k, 'bytes', 0 if data is None else len(data),
              'align16', 'n/a' if start is None else start % 16 == 0,
              'sum', 0 if data is None else sum(data))
        if data and len(data) <= 64:
            print('buffer', k, 'int8', [x - 256 if x > 127 else x for x in data])
    sgs = tables(m, 2)
    print('subgraphs', len(sgs))
    sg = sgs[0]
    print('subgraph name', string(sg, 4))
    for k, t in enumerate(tables(sg, 0)):
        q = sub(t, 4)
        scales = vec(q, 2, N.Float32Flags) if q else None
        zps = vec(q, 3, N.Int64Flags) if q else None
        print('tensor', k, string(t, 3), 'type', sc(t, 1, N.Int8Flags),
              'shape', vec(t, 0), 'buffer', sc(t, 2, N.Uint32Flags),
              'scales', None if scales is None else ['%.9g' % s for s in scales],
              'zps', zps, 'qdim', sc(q, 6, N.Int32Flags) if q else None)
    for k, o in enumerate(tables(sg, 3)):
        opt = sub(o, 4)
        print('op', k, 'opcode', sc(o, 0, N.Uint32Flags), 'in', vec(o, 1),
              'out', vec(o, 2), 'options_type', sc(o, 3, N.Uint8Flags),
              'options_fields', None if opt is None else
              [off(opt, i) != 0 for i in range(8)])
        if opt is not None and sc(o, 3, N.Uint8Flags) in OPTIONS:
            print('op', k, 'options', option_values(opt, sc(o, 3, N.Uint8Flags)))
        oc = tables(m, 1)[sc(o, 0, N.Uint32Flags)]
        if string(oc, 1) is not None:
            print('op', k, 'custom', string(oc, 1), 'custom_options',
                  vec(o, 5, N.Uint8Flags))
    print('inputs', vec(sg, 1))
    print('outputs', vec(sg, 2))


if __name__ == '__main__':
    main(sys.argv[1])
