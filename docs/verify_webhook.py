#!/usr/bin/env python3
"""Checks that a Traceline webhook delivery is genuine and fresh (docs/WEBHOOKS.md).

    python3 verify_webhook.py "$SECRET" "$TRACELINE_SIGNATURE_HEADER" [MAX_AGE_SECONDS] < body.json
"""
import hashlib
import hmac
import sys
import time


def verify(secret: str, header: str, body: bytes, max_age: int = 300) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(fields["t"])) <= max_age
    return fresh and hmac.compare_digest(expected, fields["v1"])


if __name__ == "__main__":
    max_age = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    valid = verify(sys.argv[1], sys.argv[2], sys.stdin.buffer.read(), max_age)
    print("valid" if valid else "INVALID")
    sys.exit(0 if valid else 1)
