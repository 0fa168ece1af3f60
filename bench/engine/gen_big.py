#!/usr/bin/env python3
"""Writes a large, deterministic C program (for the load-time benchmark): N functions
mixing integer and float arithmetic, loops, switches, memory accesses and calls,
all reachable through a function table so the linker keeps them."""
import random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
rnd = random.Random(42)
out = ["#include <stdio.h>", "#include <stdint.h>", "static uint32_t mem[4096]; static double fm[512];"]
ops = ["+", "-", "*", "^", "|", "&"]
for i in range(n):
    body = [f"uint32_t f{i}(uint32_t a, uint32_t b) {{", "  uint32_t x = a, y = b; double d = (double)a;"]
    for k in range(rnd.randint(4, 9)):
        kind = rnd.randint(0, 5)
        c = rnd.randint(1, 1 << 20)
        if kind == 0:
            body.append(f"  x = (x {rnd.choice(ops)} {c}u) {rnd.choice(ops)} (y >> {rnd.randint(1, 31)});")
        elif kind == 1:
            body.append(f"  for (uint32_t i = 0; i < (y & 15); i++) {{ x += mem[(x + i * {c}u) & 4095]; mem[(y + i) & 4095] ^= x; }}")
        elif kind == 2:
            cases = " ".join(f"case {j}: x {rnd.choice(ops)}= {rnd.randint(1, 9999)}u; break;" for j in range(rnd.randint(3, 8)))
            body.append(f"  switch (x % {rnd.randint(3, 11)}u) {{ {cases} default: y += x; }}")
        elif kind == 3:
            body.append(f"  d = d * {rnd.random():.6f} + fm[(x >> 3) & 511]; fm[y & 511] = d / (1.0 + (double)(y & 7)); x += (uint32_t)(int64_t)d;")
        elif kind == 4 and i > 0:
            body.append(f"  if ((x & {rnd.randint(1, 255)}u) == 0u) y += f{rnd.randint(max(0, i - 50), i - 1)}(x, y & 3u);")
        else:
            body.append(f"  y = y * {c}u + (x < y ? x : y); x = (x << {rnd.randint(1, 7)}) | (x >> {rnd.randint(25, 31)});")
    body.append("  return x ^ y;")
    body.append("}")
    out.extend(body)
out.append("typedef uint32_t (*fn_t)(uint32_t, uint32_t);")
out.append("static fn_t const table[] = {" + ", ".join(f"f{i}" for i in range(n)) + "};")
out.append("int main(int argc, char **argv) { uint32_t acc = (uint32_t)argc;")
out.append(f"  for (uint32_t i = 0; i < {n}u; i++) acc = table[(acc + i) % {n}u](acc, i & 7u);")
out.append("  printf(\"%u\\n\", acc); return 0; }")
print("\n".join(out))
