#!/usr/bin/env python3
"""Oracle test of the Canonical ABI layer against the reference implementation.

Generates random component value types and values (seeded), runs each case through the
reference canonical-abi-definitions.py (in Python, DETERMINISTIC_PROFILE on) and through the
C layer (objs/t/cabi/cabi_oracle, see its header for the line protocol), and compares:
  layout     elem_size, alignment and flatten_type of the type
  store      the bytes of memory and the allocator state after `store` of a host value at an
             aligned pointer, in each string encoding (realloc: a bump allocator, sometimes
             returning a misaligned or out-of-bounds pointer on its K-th call)
  lowerflat  the core values and memory after `lower_flat`
  load       the value (or trap) from `load` of the bytes stored above, and of copies with
             random bytes changed (hostile memory: bad discriminants, chars, bools, pointers,
             lengths, UTF-8/UTF-16)
  liftflat   the value (or trap) from `lift_flat` of the lowered core values, and of copies
             with a random core value replaced
Ends with "N passed, N failed" (one per comparison). Skips when the reference is absent.
Environment: CABI_REFERENCE (path of canonical-abi-definitions.py), CABI_SEED, CABI_CASES,
B (build directory).
"""
import importlib.util
import os
import random
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF = os.environ.get('CABI_REFERENCE') or os.path.join(
    ROOT, '..', 'shared', 'reference', 'component-model', 'canonical-abi-definitions.py')
BIN = os.path.join(ROOT, os.environ.get('B', 'objs'), 't', 'cabi', 'cabi_oracle')
SEED = int(os.environ.get('CABI_SEED', '20261207'))
CASES = int(os.environ.get('CABI_CASES', '1500'))
MEMSIZE = 65536
ENCS = ['utf8', 'utf16', 'latin1+utf16']

if not os.path.exists(REF) and not os.environ.get('CABI_REFERENCE'):
    # a git worktree: ../shared next to the main checkout
    try:
        common = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--git-common-dir'],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                universal_newlines=True).stdout.strip()
        alt = os.path.join(ROOT, common, '..', '..', 'shared', 'reference', 'component-model',
                           'canonical-abi-definitions.py')
        if common and os.path.exists(alt):
            REF = os.path.normpath(alt)
    except OSError:
        pass
if not os.path.exists(REF):
    print('t/cabi oracle: reference %s not found: skipped' % REF)
    print('0 passed, 0 failed, 1 skipped')
    sys.exit(0)
if not os.path.exists(BIN):
    print('t/cabi oracle: %s not built (make test builds it)' % BIN)
    print('0 passed, 1 failed')
    sys.exit(1)

spec = importlib.util.spec_from_file_location('cabi_reference', REF)
ref = importlib.util.module_from_spec(spec)
sys.modules['cabi_reference'] = ref
spec.loader.exec_module(ref)
ref.DETERMINISTIC_PROFILE = True


def align_up(v, a):
    return (v + a - 1) // a * a


# ---------------------------------------------------------------- types

PRIMS = [('bool', ref.BoolType), ('s8', ref.S8Type), ('u8', ref.U8Type), ('s16', ref.S16Type),
         ('u16', ref.U16Type), ('s32', ref.S32Type), ('u32', ref.U32Type),
         ('s64', ref.S64Type), ('u64', ref.U64Type), ('f32', ref.F32Type),
         ('f64', ref.F64Type), ('char', ref.CharType), ('string', ref.StringType)]


class T:
    """A generated type: its token string for the C tool and the reference type."""
    def __init__(self, toks, rt, kind, **kw):
        self.toks, self.rt, self.kind = toks, rt, kind
        self.__dict__.update(kw)


def gen_type(rng, depth):
    leaf = depth >= 4 or rng.random() < 0.35 + 0.1 * depth
    if leaf:
        name, cls = rng.choice(PRIMS + [('string', ref.StringType)] * 2)
        return T([name], cls(), name)
    k = rng.choice(['list', 'list', 'flist', 'rec', 'tup', 'var', 'enum', 'opt', 'res',
                    'flags', 'map', 'bytes'])
    if k == 'bytes':
        e = T(['u8'], ref.U8Type(), 'u8')
        return T(['list'] + e.toks, ref.ListType(e.rt), 'list', elem=e)
    if k == 'list':
        e = gen_type(rng, depth + 1)
        return T(['list'] + e.toks, ref.ListType(e.rt), 'list', elem=e)
    if k == 'flist':
        e = gen_type(rng, depth + 1)
        n = rng.randint(1, 4)
        return T(['flist', str(n)] + e.toks, ref.ListType(e.rt, n), 'flist', elem=e, n=n)
    if k in ('rec', 'tup'):
        n = rng.randint(1, 5)
        fs = [gen_type(rng, depth + 1) for _ in range(n)]
        toks = [k, str(n)] + [t for f in fs for t in f.toks]
        if k == 'rec':
            rt = ref.RecordType([ref.FieldType('f%d' % i, f.rt) for i, f in enumerate(fs)])
        else:
            rt = ref.TupleType([f.rt for f in fs])
        return T(toks, rt, k, fields=fs)
    if k == 'var':
        n = rng.choice([1, 2, 3, 4, 5, 257]) if rng.random() < 0.1 else rng.randint(1, 5)
        cs = [gen_type(rng, depth + 1) if (n < 10 or i < 3) and rng.random() < 0.7 else None
              for i in range(n)]
        toks = ['var', str(n)]
        for c in cs:
            toks += ['_'] if c is None else ['+'] + c.toks
        rt = ref.VariantType([ref.CaseType('c%d' % i, c.rt if c else None)
                              for i, c in enumerate(cs)])
        return T(toks, rt, 'var', cases=cs)
    if k == 'enum':
        n = rng.choice([1, 2, 3, 256, 257, 300]) if rng.random() < 0.2 else rng.randint(1, 6)
        return T(['enum', str(n)], ref.EnumType(['e%d' % i for i in range(n)]), 'enum', n=n)
    if k == 'opt':
        e = gen_type(rng, depth + 1)
        return T(['opt'] + e.toks, ref.OptionType(e.rt), 'opt', cases=[None, e])
    if k == 'res':
        ok = gen_type(rng, depth + 1) if rng.random() < 0.7 else None
        er = gen_type(rng, depth + 1) if rng.random() < 0.7 else None
        toks = ['res'] + (['_'] if ok is None else ['+'] + ok.toks) + \
               (['_'] if er is None else ['+'] + er.toks)
        return T(toks, ref.ResultType(ok.rt if ok else None, er.rt if er else None), 'res',
                 cases=[ok, er])
    if k == 'flags':
        n = rng.choice([1, 8, 9, 16, 17, 31, 32]) if rng.random() < 0.5 else rng.randint(1, 32)
        return T(['flags', str(n)], ref.FlagsType(['g%d' % i for i in range(n)]), 'flags', n=n)
    kt = gen_type(rng, 3)
    vt = gen_type(rng, depth + 1)
    return T(['map'] + kt.toks + vt.toks, ref.MapType(kt.rt, vt.rt), 'map', key=kt, val=vt)


# ---------------------------------------------------------------- values

INT_RANGES = {'s8': (-128, 127), 'u8': (0, 255), 's16': (-32768, 32767), 'u16': (0, 65535),
              's32': (-2**31, 2**31 - 1), 'u32': (0, 2**32 - 1), 's64': (-2**63, 2**63 - 1),
              'u64': (0, 2**64 - 1)}


def gen_char(rng):
    r = rng.random()
    if r < 0.4:
        return rng.randint(0x20, 0x7e)
    if r < 0.6:
        return rng.randint(0x80, 0xff)
    if r < 0.8:
        c = rng.randint(0x100, 0xfffd)
        return c if not 0xd800 <= c <= 0xdfff else 0x20ac
    return rng.randint(0x10000, 0x10ffff)


def gen_string(rng):
    r = rng.random()
    n = rng.randint(0, 12)
    if r < 0.3:
        return ''.join(chr(rng.randint(0x20, 0x7e)) for _ in range(n))
    if r < 0.5:
        return ''.join(chr(rng.randint(0x20, 0xff)) for _ in range(n))
    return ''.join(chr(gen_char(rng)) for _ in range(n))


def f32_bits(rng):
    r = rng.random()
    if r < 0.05:
        return 0x7f800000 | rng.randint(1, 0x7fffff) | (rng.randint(0, 1) << 31)  # NaN
    if r < 0.1:
        return rng.choice([0, 0x80000000, 0x7f800000, 0xff800000, 1])
    return rng.randint(0, 2**32 - 1) & 0xff7fffff  # finite


def f64_bits(rng):
    r = rng.random()
    if r < 0.05:
        return 0x7ff0000000000000 | rng.randint(1, 2**52 - 1)
    if r < 0.1:
        return rng.choice([0, 1 << 63, 0x7ff0000000000000, 1])
    return rng.randint(0, 2**64 - 1) & 0xffefffffffffffff


def gen_value(rng, t, depth=0):
    """(tokens, reference value)"""
    k = t.kind
    if k == 'bool':
        b = rng.random() < 0.5
        return (['1' if b else '0'], b)
    if k in INT_RANGES:
        lo, hi = INT_RANGES[k]
        v = rng.choice([lo, hi, 0, -1 if lo < 0 else 1]) if rng.random() < 0.3 else \
            rng.randint(lo, hi)
        return ([str(v)], v)
    if k == 'f32':
        b = f32_bits(rng)
        return (['0x%08x' % b], struct.unpack('<f', struct.pack('<I', b))[0])
    if k == 'f64':
        b = f64_bits(rng)
        return (['0x%016x' % b], struct.unpack('<d', struct.pack('<Q', b))[0])
    if k == 'char':
        c = gen_char(rng)
        return ([str(c)], chr(c))
    if k == 'string':
        s = gen_string(rng)
        u = s.encode('utf-8')
        return (['s' + u.hex()], (s, 'utf8', len(u)))
    if k in ('list', 'flist'):
        n = t.n if k == 'flist' else rng.randint(0, 4 if depth < 2 else 2)
        if k == 'list' and t.elem.kind == 'u8' and rng.random() < 0.3:
            n = rng.randint(0, 64)
        toks, vals = ([] if k == 'flist' else ['L%d' % n]), []
        for _ in range(n):
            tk, v = gen_value(rng, t.elem, depth + 1)
            toks += tk
            vals.append(v)
        return (toks, vals)
    if k in ('rec', 'tup'):
        toks, d = [], {}
        for i, f in enumerate(t.fields):
            tk, v = gen_value(rng, f, depth + 1)
            toks += tk
            d[('f%d' % i) if k == 'rec' else str(i)] = v
        return (toks, d)
    if k in ('var', 'opt', 'res'):
        cases = t.cases
        i = rng.randrange(len(cases))
        label = ('c%d' % i) if k == 'var' else (['none', 'some'][i] if k == 'opt'
                                                 else ['ok', 'error'][i])
        toks = ['V%d' % i]
        if cases[i] is None:
            return (toks, {label: None})
        tk, v = gen_value(rng, cases[i], depth + 1)
        return (toks + tk, {label: v})
    if k == 'enum':
        i = rng.randrange(t.n)
        return (['V%d' % i], {'e%d' % i: None})
    if k == 'flags':
        bits = rng.randint(0, (1 << t.n) - 1)
        return (['F%d' % bits], {'g%d' % i: bool(bits >> i & 1) for i in range(t.n)})
    if k == 'map':
        n = rng.randint(0, 3)
        toks, vals = ['L%d' % n], []
        for _ in range(n):
            tk1, kv = gen_value(rng, t.key, depth + 1)
            tk2, vv = gen_value(rng, t.val, depth + 1)
            toks += tk1 + tk2
            vals.append({'0': kv, '1': vv})
        return (toks, vals)
    raise AssertionError(k)


def print_value(t, v):
    """canonical tokens of a lifted reference value (the C tool prints the same)"""
    k = t.kind
    if k == 'bool':
        return ['1' if v else '0']
    if k in INT_RANGES:
        return [str(v)]
    if k == 'f32':
        return ['0x%08x' % struct.unpack('<I', struct.pack('<f', v))[0]]
    if k == 'f64':
        return ['0x%016x' % struct.unpack('<Q', struct.pack('<d', v))[0]]
    if k == 'char':
        return [str(ord(v))]
    if k == 'string':
        return ['s' + v[0].encode('utf-8').hex()]
    if k in ('list', 'flist'):
        out = ['L%d' % len(v)]
        for e in v:
            out += print_value(t.elem, e)
        return out
    if k in ('rec', 'tup'):
        out = []
        for i, f in enumerate(t.fields):
            out += print_value(f, v[('f%d' % i) if k == 'rec' else str(i)])
        return out
    if k in ('var', 'opt', 'res', 'enum'):
        [(label, pv)] = v.items()
        if k == 'enum':
            return ['V%d' % int(label[1:])]
        i = int(label[1:]) if k == 'var' else (['none', 'some'].index(label) if k == 'opt'
                                               else ['ok', 'error'].index(label))
        out = ['V%d' % i]
        if t.cases[i] is not None:
            out += print_value(t.cases[i], pv)
        return out
    if k == 'flags':
        return ['F%d' % sum(1 << i for i in range(t.n) if v['g%d' % i])]
    if k == 'map':
        out = ['L%d' % len(v)]
        for e in v:
            out += print_value(t.key, e['0']) + print_value(t.val, e['1'])
        return out
    raise AssertionError(k)


# ---------------------------------------------------------------- reference side

class Bump:
    """The bump realloc cabi_oracle.c implements too."""
    def __init__(self, mem, heap, rmode):
        self.mem, self.next, self.calls = mem, heap, 0
        self.bad_call, self.bad_kind = 0, None
        if rmode != '0':
            n, kind = rmode.split(':')
            self.bad_call, self.bad_kind = int(n), kind

    def __call__(self, old, old_size, align, new_size):
        self.calls += 1
        if self.calls == self.bad_call and self.bad_kind == 'mis':
            return align_up(self.next, align) + 1
        if self.calls == self.bad_call and self.bad_kind == 'oob':
            return align_up(MEMSIZE - new_size + 1, align)
        p = align_up(self.next, align)
        if p + new_size > MEMSIZE:
            return MEMSIZE
        if old and old_size:
            n = min(old_size, new_size)
            self.mem[p:p + n] = self.mem[old:old + n]
        self.next = p + new_size
        return p


class Cx(ref.LiftLowerContext):
    def __init__(self, enc, mem, bump=None):
        self.opts = ref.LiftLowerOptions(string_encoding=enc, memory=ref.MemInst(mem, 'i32'))
        self.inst = None
        self.borrow_scope = None
        self.bump = bump

    def reallocate(self, old, old_size, alignment, new_size):
        return self.bump(old, old_size, alignment, new_size)


def ref_run(fn):
    try:
        return ('ok', fn())
    except ref.Trap:
        return ('trap', None)


def flat_bits(ftypes, vals):
    out = []
    for ft, v in zip(ftypes, vals):
        if ft == 'f32' and isinstance(v, float):
            v = struct.unpack('<I', struct.pack('<f', v))[0]
        elif ft == 'f64' and isinstance(v, float):
            v = struct.unpack('<Q', struct.pack('<d', v))[0]
        out.append(v)
    return out


def flat_vals(ftypes, bits):
    out = []
    for ft, b in zip(ftypes, bits):
        if ft == 'f32':
            out.append(struct.unpack('<f', struct.pack('<I', b & 0xffffffff))[0])
        elif ft == 'f64':
            out.append(struct.unpack('<d', struct.pack('<Q', b))[0])
        else:
            out.append(b)
    return out


# ---------------------------------------------------------------- driver

class Oracle:
    def __init__(self):
        self.p = subprocess.Popen([BIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  universal_newlines=True, bufsize=1)
        self.passed = self.failed = 0
        self.shown = 0
        self.traps = {}

    def ask(self, line):
        self.p.stdin.write(line + '\n')
        self.p.stdin.flush()
        ans = self.p.stdout.readline()
        if not ans:
            raise SystemExit('cabi_oracle died on: ' + line[:300])
        return ans.rstrip('\n')

    def check(self, what, line, want, got):
        g = got.split(' #')[0].strip()
        if g == want:
            self.passed += 1
            if want == 'trap':
                self.traps[what] = self.traps.get(what, 0) + 1
            return
        self.failed += 1
        if self.shown < 15:
            self.shown += 1
            print('MISMATCH %s\n  case: %s\n  want: %s\n  got:  %s' %
                  (what, line[:600], want[:600], got[:600]))


def main():
    rng = random.Random(SEED)
    o = Oracle()
    kinds = {}
    for case in range(CASES):
        t = gen_type(rng, 0)
        kinds[t.kind] = kinds.get(t.kind, 0) + 1
        ttoks = ' '.join(t.toks)
        opts_i32 = ref.LiftLowerOptions(memory=ref.MemInst(bytearray(0), 'i32'))
        size = ref.elem_size(t.rt, 'i32')
        align = ref.alignment(t.rt, 'i32')
        flat = ref.flatten_type(t.rt, opts_i32)
        fl = ','.join(flat[:16]) + (',+%d' % len(flat) if len(flat) > 16 else '')
        line = 'layout | ' + ttoks
        o.check('layout', line, '%d %d %s' % (size, align, fl), o.ask(line))
        if size > 4096:
            continue
        enc = ENCS[case % 3]
        vtoks, v = gen_value(rng, t)
        vs = ' '.join(vtoks)

        # store at an aligned pointer
        ptr = 8
        heap = align_up(ptr + size, 8) + 8
        rmode = '0' if rng.random() < 0.85 else '%d:%s' % (rng.randint(1, 3),
                                                          rng.choice(['mis', 'oob']))
        mem = bytearray(MEMSIZE)
        bump = Bump(mem, heap, rmode)
        cx = Cx(enc, mem, bump)
        st, _ = ref_run(lambda: ref.store(cx, v, t.rt, ptr))
        hi = max(bump.next, heap) if bump.next <= MEMSIZE else MEMSIZE
        hi = min(hi, MEMSIZE)
        line = 'store %s %d %d %d %s | %s | %s' % (enc, ptr, heap, hi, rmode, ttoks, vs)
        want = 'trap' if st == 'trap' else 'ok %s' % mem[:hi].hex()
        o.check('store', line, want, o.ask(line))
        if st == 'ok':
            image = bytes(mem[:hi])
            # load it back, then hostile copies
            for m in range(4):
                img = bytearray(image)
                if m == 1 or m == 2:
                    for _ in range(rng.randint(1, 3)):
                        i = rng.randrange(len(img))
                        img[i] = rng.choice([0, 1, 2, 0x7f, 0x80, 0xc0, 0xd8, 0xdc, 0xff,
                                             rng.randrange(256)])
                elif m == 3 and len(img) >= 4:
                    # an aligned 16- or 32-bit word: surrogates, bad chars, the UTF-16 tag,
                    # big lengths, pointers past the end
                    if rng.random() < 0.5:
                        i = rng.randrange(len(img) // 2) * 2
                        w = rng.choice([0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffe])
                        img[i:i + 2] = struct.pack('<H', w)
                    else:
                        i = rng.randrange(len(img) // 4) * 4
                        w = rng.choice([0xd800, 0xdfff, 0x110000, 0xffffffff, 0x80000000,
                                        0x80000003, 0x10000, 0xfff0, 0x10000000, 0x0fffffff, 3])
                        img[i:i + 4] = struct.pack('<I', w)
                lmem = bytearray(MEMSIZE)
                lmem[:len(img)] = img
                lcx = Cx(enc, lmem)
                st2, val = ref_run(lambda: ref.load(lcx, ptr, t.rt))
                line = 'load %s %d | %s | %s' % (enc, ptr, ttoks, img.hex())
                want = 'trap' if st2 == 'trap' else 'ok ' + ' '.join(print_value(t, val))
                o.check('load' if not m else 'load-hostile', line, want, o.ask(line))

        # flat lowering and lifting
        if len(flat) > 16:
            continue
        heap = 64
        rmode = '0' if rng.random() < 0.9 else '%d:%s' % (rng.randint(1, 2),
                                                         rng.choice(['mis', 'oob']))
        mem = bytearray(MEMSIZE)
        bump = Bump(mem, heap, rmode)
        cx = Cx(enc, mem, bump)
        st, fv = ref_run(lambda: ref.lower_flat(cx, v, t.rt))
        hi = min(max(bump.next, heap), MEMSIZE)
        line = 'lowerflat %s %d %d %s | %s | %s' % (enc, heap, hi, rmode, ttoks, vs)
        if st == 'trap':
            want = 'trap'
        else:
            bits = flat_bits(flat, fv)
            want = 'ok ' + ' '.join('%x' % b for b in bits) + ' ; ' + mem[:hi].hex()
        o.check('lowerflat', line, want, o.ask(line))
        if st != 'ok':
            continue
        image = bytes(mem[:hi])
        for m in range(3):
            b2 = list(bits)
            if m:
                i = rng.randrange(len(b2))
                wide = flat[i] in ('i64', 'f64')
                b2[i] = rng.choice([0, 1, 2, 3, 0xd800, 0x110000, 0xffffffff, 0x80000000,
                                    rng.randrange(2**32),
                                    rng.randrange(2**64) if wide else rng.randrange(2**16)])
                if not wide:
                    b2[i] &= 0xffffffff
            lmem = bytearray(MEMSIZE)
            lmem[:len(image)] = image
            lcx = Cx(enc, lmem)
            st2, val = ref_run(lambda: ref.lift_flat(lcx, ref.CoreValueIter(flat_vals(flat, b2)),
                                                     t.rt))
            line = 'liftflat %s | %s | %s | %s' % (enc, ttoks, ' '.join('%x' % b for b in b2),
                                                   image.hex())
            want = 'trap' if st2 == 'trap' else 'ok ' + ' '.join(print_value(t, val))
            o.check('liftflat' if not m else 'liftflat-hostile', line, want, o.ask(line))
    o.p.stdin.close()
    o.p.wait()
    print('t/cabi oracle: seed %d, %d types (%s)' % (SEED, CASES, ', '.join(
        '%s %d' % kv for kv in sorted(kinds.items()))))
    print('t/cabi oracle: agreed traps: %s' % ', '.join('%s %d' % kv for kv in
                                                      sorted(o.traps.items())))
    print('%d passed, %d failed' % (o.passed, o.failed))
    return 1 if o.failed else 0


sys.exit(main())
