"""Independent check of EduVault partial decryption files (issue 11), from the papers and the file formats only.

Usage: python threshold_verify.py THRESHOLD_JSON RELEASE_JSON PARTIAL_JSON...

For each partial: recomputes the release's units (C = prod c_j^(2^(W*j)), W = slot_bits*slot_count + 8, at most
(|n| - 2) // W cells per unit), the proof context (length-prefixed: domain, vault, release id, the release digest the
file states, unit index, first cell, cell count, W) and checks every proof (e, z): with a = (c^4)^z * (c_i^2)^-e and
b = v^z * v_i^-e, e must equal SHA-256 over the length-prefixed fields. Prints "ok PARTY" or "bad PARTY".
Then combines the first t valid partials with mu_{0,i} = Delta * prod j/(j - i) and prints each cell's packed value
as "cell K: SIGNED_VALUE" (the cell's plaintext as a signed integer).
"""
import base64
import hashlib
import json
import math
import sys


def b64int(text):
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def field(data):
    return len(data).to_bytes(4, "big") + data


def main():
    key = json.load(open(sys.argv[1]))
    release = json.load(open(sys.argv[2]))
    partials = [json.load(open(path)) for path in sys.argv[3:]]
    n = b64int(key["n"])
    n2 = n * n
    width = (n2.bit_length() + 7) // 8
    v = b64int(key["v"])
    delta = math.factorial(len(key["parties"]))
    parties = {p["index"]: p for p in key["parties"]}
    cells = [int(c["sum"]) for c in release["cells"]]
    w = release["slot_bits"] * release["slot_count"] + 8
    per_unit = (n.bit_length() - 2) // w
    ranges = [(first, min(first + per_unit, len(cells))) for first in range(0, len(cells), per_unit)]
    units = []
    for first, end in ranges:
        acc = cells[end - 1]
        for j in reversed(range(first, end - 1)):
            acc = pow(acc, 1 << w, n2) * cells[j] % n2
        units.append(acc)
    valid = []
    for partial in partials:
        party = parties[partial["index"]]
        assert party["name"] == partial["party"] and partial["key_id"] == key["key_id"]
        assert partial["release"] == release["id"] and partial["cell_bits"] == w
        vi = b64int(party["verification_key"])
        good = len(partial["units"]) == len(units)
        for u, (unit, c) in enumerate(zip(partial["units"], units)):
            context = b"".join(field(str(x).encode()) for x in [
                "EduVault release unit v1", release["vault"], release["id"], partial["release_sha256"], u,
                ranges[u][0], ranges[u][1] - ranges[u][0], w])
            ci, e, z = int(unit["value"]), int(unit["challenge"], 16), int(unit["response"])
            c4 = pow(c, 4, n2)
            a = pow(c4, z, n2) * pow(pow(ci * ci, e, n2), -1, n2) % n2
            b = pow(v, z, n2) * pow(pow(vi, e, n2), -1, n2) % n2
            h = hashlib.sha256()
            h.update(field(b"EduVault threshold Paillier partial decryption proof v1"))
            for text in (key["key_id"], key["ceremony"], party["name"], str(party["index"])):
                h.update(field(text.encode()))
            h.update(field(context))
            for value in (n, v, vi, c, ci, a, b):
                h.update(field(value.to_bytes(width, "big")))
            good = good and int.from_bytes(h.digest(), "big") == e
        print(("ok " if good else "bad ") + party["name"])
        if good:
            valid.append(partial)
    valid = valid[: key["threshold"]]
    if len(valid) < key["threshold"]:
        print("no quorum")
        return
    indexes = [p["index"] for p in valid]
    for u, c in enumerate(units):
        product = 1
        for p in valid:
            i = p["index"]
            num, den = delta, 1
            for j in indexes:
                if j != i:
                    num *= j
                    den *= j - i
            product = product * pow(int(p["units"][u]["value"]), 2 * (num // den), n2) % n2
        m = (product - 1) // n * pow(4 * delta * delta, -1, n) % n
        if m > n // 2:
            m -= n
        for k in range(ranges[u][0], ranges[u][1]):
            chunk = m % (1 << w)
            if chunk >= 1 << (w - 1):
                chunk -= 1 << w
            print("cell %d: %d" % (k, chunk))
            m = (m - chunk) >> w
        assert m == 0


if __name__ == "__main__":
    main()
