#!/usr/bin/env python3
"""python-paillier (phe, with gmpy2) measured the way `eduvault bench` measures EduVault.

Prints one JSON object with the same keys as `eduvault bench --json`, for Benchmarks/compare.sh.
Usage: bench_phe.py [--bits 2048] [--seconds 2] [--skip-keygen] [--private-key FILE]
"""
import argparse
import json
import multiprocessing
import random
import sys
import time

import phe
from phe import paillier, util


def rate(body, seconds, batch=1):
    start = time.perf_counter()
    count = 0
    while True:
        body()
        count += batch
        if time.perf_counter() - start >= seconds:
            break
    return count / (time.perf_counter() - start)


def _encrypt_worker(args):
    n, m, seconds = args
    pub = paillier.PaillierPublicKey(n)
    return rate(lambda: pub.raw_encrypt(m), seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bits", type=int, default=2048)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--skip-keygen", action="store_true")
    ap.add_argument("--private-key", help="a python-paillier JWK private key file to use instead of generating one")
    args = ap.parse_args()
    s = args.seconds
    out = {"bits": args.bits, "library": "phe %s" % phe.__version__, "gmpy2": util.HAVE_GMP}
    if args.private_key:
        with open(args.private_key) as f:
            d = json.load(f)
        pub = paillier.PaillierPublicKey(util.base64_to_int(d["pub"]["n"]))
        priv = paillier.PaillierPrivateKey(pub, util.base64_to_int(d["p"]), util.base64_to_int(d["q"]))
    else:
        start = time.perf_counter()
        count = 0
        while True:
            pub, priv = paillier.generate_paillier_keypair(n_length=args.bits)
            count += 1
            if args.skip_keygen or time.perf_counter() - start >= s:
                break
        if not args.skip_keygen:
            out["keygen_per_s"] = count / (time.perf_counter() - start)
    m = random.SystemRandom().randrange(pub.max_int)
    # phe's encrypt(int) = encode + raw_encrypt (r^n mod n^2 with a fresh r) — the full, obfuscated encryption.
    out["encrypt_per_s"] = rate(lambda: pub.encrypt(m), s)
    cores = multiprocessing.cpu_count()
    with multiprocessing.Pool(cores) as pool:
        out["encrypt_per_s_all_cores"] = sum(pool.map(_encrypt_worker, [(pub.n, m, s)] * cores))
    c1 = pub.encrypt(m)
    c2 = pub.encrypt(m)
    out["decrypt_per_s"] = rate(lambda: priv.decrypt(c1), s)
    out["add_per_s"] = rate(lambda: c1 + c2, s)
    k = random.SystemRandom().getrandbits(64)
    out["scalar_mul_per_s"] = rate(lambda: c1 * k, s)
    # A homomorphic sum of many ciphertexts, done the fastest way phe offers: raw mulmod on ciphertext integers.
    raws = [pub.encrypt(m).ciphertext(be_secure=False) for _ in range(64)]
    nsq = pub.nsquare
    chunk = 4096

    def raw_sum():
        acc = 1
        for i in range(chunk):
            acc = util.mulmod(acc, raws[i & 63], nsq)
        return acc

    out["sum_adds_per_s"] = rate(raw_sum, s, batch=chunk)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
