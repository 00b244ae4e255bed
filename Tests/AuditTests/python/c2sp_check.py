#!/usr/bin/env python3
"""An independent implementation of C2SP signed-note, tlog-checkpoint and tlog-cosignature (Ed25519), used by
AuditTests to cross-check EduVault's Swift code. It shares no code with it: parsing, key IDs and signatures are
computed here from the specs (https://c2sp.org/signed-note, /tlog-checkpoint, /tlog-cosignature) with hashlib and
the `cryptography` package.

  c2sp_check.py verify NOTE_FILE LOG_VKEY WITNESS_VKEY   -> prints JSON, exit 0 iff both signatures verify
  c2sp_check.py sign   LOG_SEED_HEX LOG_NAME WITNESS_SEED_HEX WITNESS_NAME ORIGIN SIZE ROOT_HEX TIMESTAMP
                                                         -> prints JSON {note, log_vkey, witness_vkey}
"""
import base64
import binascii
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EM_DASH = "\u2014"


def key_id(name: str, sig_type: int, pub: bytes) -> int:
    return struct.unpack(">I", hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + pub).digest()[:4])[0]


def vkey(name: str, sig_type: int, pub: bytes) -> str:
    return "%s+%08x+%s" % (name, key_id(name, sig_type, pub), base64.b64encode(bytes([sig_type]) + pub).decode())


def parse_vkey(text: str, sig_type: int):
    name, rest = text.split("+", 1)
    hash_hex, b64 = rest.split("+", 1)
    raw = base64.b64decode(b64, validate=True)
    if len(hash_hex) != 8 or len(raw) != 33 or raw[0] != sig_type:
        raise ValueError("malformed verifier key")
    pub = raw[1:]
    if key_id(name, sig_type, pub) != int(hash_hex, 16):
        raise ValueError("verifier key hash mismatch")
    return name, int(hash_hex, 16), Ed25519PublicKey.from_public_bytes(pub)


def parse_note(data: bytes):
    decoded = data.decode("utf-8")  # must be UTF-8
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise ValueError("control character")
    split = data.rfind(b"\n\n")
    if split < 0:
        raise ValueError("no blank line")
    text, block = data[: split + 1], data[split + 2 :]
    if not block.endswith(b"\n"):
        raise ValueError("signature block must end in newline")
    sigs = []
    for line in block[:-1].decode().split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise ValueError("bad signature line")
        name, b64 = line[2:].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        sigs.append((name, struct.unpack(">I", raw[:4])[0], raw[4:]))
    return text, sigs


def parse_checkpoint(text: bytes):
    lines = text.decode().split("\n")
    assert lines[-1] == "", "body must end in newline"
    lines = lines[:-1]
    assert len(lines) >= 3 and all(lines), "need origin, size, root; no empty lines"
    assert lines[1] == "0" or (lines[1].isdigit() and not lines[1].startswith("0")), "size"
    root = base64.b64decode(lines[2], validate=True)
    assert len(root) == 32, "root is 32 bytes"
    return lines[0], int(lines[1]), root, lines[3:]


def verify(note_file: str, log_vkey: str, witness_vkey: str) -> int:
    data = open(note_file, "rb").read()
    text, sigs = parse_note(data)
    origin, size, root, extensions = parse_checkpoint(text)
    log_name, log_hash, log_pub = parse_vkey(log_vkey, 0x01)
    w_name, w_hash, w_pub = parse_vkey(witness_vkey, 0x04)
    result = {"origin": origin, "size": size, "root": root.hex(), "extensions": extensions,
              "log_ok": False, "cosig_ok": False, "timestamp": None, "signatures": len(sigs)}
    for name, h, sig in sigs:
        if name == log_name and h == log_hash and len(sig) == 64:
            try:
                log_pub.verify(sig, text)
                result["log_ok"] = True
            except InvalidSignature:
                pass
        if name == w_name and h == w_hash and len(sig) == 72:
            (timestamp,) = struct.unpack(">Q", sig[:8])
            message = b"cosignature/v1\ntime %d\n" % timestamp + text
            try:
                w_pub.verify(sig[8:], message)
                result["cosig_ok"] = True
                result["timestamp"] = timestamp
            except InvalidSignature:
                pass
    print(json.dumps(result))
    return 0 if result["log_ok"] and result["cosig_ok"] else 1


def sign(log_seed: str, log_name: str, w_seed: str, w_name: str, origin: str, size: str, root_hex: str,
         timestamp: str) -> int:
    log_key = Ed25519PrivateKey.from_private_bytes(binascii.unhexlify(log_seed))
    w_key = Ed25519PrivateKey.from_private_bytes(binascii.unhexlify(w_seed))
    raw = lambda k: k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = ("%s\n%d\n%s\n" % (origin, int(size), base64.b64encode(binascii.unhexlify(root_hex)).decode())).encode()
    log_sig = struct.pack(">I", key_id(log_name, 0x01, raw(log_key))) + log_key.sign(body)
    ts = int(timestamp)
    message = b"cosignature/v1\ntime %d\n" % ts + body
    cosig = struct.pack(">I", key_id(w_name, 0x04, raw(w_key))) + struct.pack(">Q", ts) + w_key.sign(message)
    note = body + b"\n"
    note += ("%s %s %s\n" % (EM_DASH, log_name, base64.b64encode(log_sig).decode())).encode()
    note += ("%s %s %s\n" % (EM_DASH, w_name, base64.b64encode(cosig).decode())).encode()
    print(json.dumps({"note": note.decode(), "log_vkey": vkey(log_name, 0x01, raw(log_key)),
                      "witness_vkey": vkey(w_name, 0x04, raw(w_key))}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "verify":
        sys.exit(verify(*sys.argv[2:]))
    if len(sys.argv) == 10 and sys.argv[1] == "sign":
        sys.exit(sign(*sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
