"""Schemathesis hooks: sign every request to /v1 the way EduVault's clients do (RFC 9421, ed25519, with an RFC 9530
Content-Digest), so the fuzzer reaches the real handlers and not only the 401 path.

The key per route follows the default policy's ROLES rule: a school uploads and reads receipts, the bureau queries
and fetches releases, the operator reads the status, the auditor reads the log and the audit tables.
"""
import base64
import hashlib
import json
import os
import secrets
import time

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEYS = os.environ["EDUVAULT_ST_KEYS"]


def load(name):
    data = json.load(open(os.path.join(KEYS, name)))
    if data.get("format") == "eduvault-school-keys/1":
        seed = base64.b64decode(data["signing_seed"]) if isinstance(data["signing_seed"], str) else bytes(data["signing_seed"])
        key = Ed25519PrivateKey.from_private_bytes(seed)
        return data["school_id"], key
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data["private_key"]))
    raw = key.public_key().public_bytes_raw()
    return "m:" + hashlib.sha256(raw).hexdigest()[:32], key


IDENTITIES = {name: load(name + ".key") for name in ("school", "bureau", "auditor", "operator")}


def who(path):
    if path.startswith("/v1/batches") or path.startswith("/v1/receipts"):
        return "school"
    if path.startswith("/v1/queries") or path.startswith("/v1/models") or path.startswith("/v1/releases"):
        return "bureau"
    if path.startswith("/v1/status"):
        return "operator"
    return "auditor"


def b64(data):
    return base64.b64encode(data).decode()


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if not path.startswith("/v1/"):
        return
    transport = case.as_transport_kwargs(base_url=os.environ["EDUVAULT_ST_URL"])
    prepared = requests.Request(
        method=transport["method"], url=transport["url"], params=transport.get("params"),
        headers=transport.get("headers"), json=transport.get("json"), data=transport.get("data"),
        files=transport.get("files"),
    ).prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    keyid, key = IDENTITIES[who(path)]
    digest = "sha-256=:" + b64(hashlib.sha256(body).digest()) + ":"
    params = ('("@method" "@target-uri" "content-digest");created=%d;keyid="%s";alg="ed25519";nonce="%s"'
              % (int(time.time()), keyid, secrets.token_urlsafe(16)))
    base = '"@method": %s\n"@target-uri": %s\n"content-digest": %s\n"@signature-params": %s' % (
        prepared.method, prepared.url, digest, params)
    headers = dict(case.headers or {})
    headers["Content-Digest"] = digest
    headers["Signature-Input"] = "sig1=" + params
    headers["Signature"] = "sig1=:" + b64(key.sign(base.encode())) + ":"
    case.headers = headers
