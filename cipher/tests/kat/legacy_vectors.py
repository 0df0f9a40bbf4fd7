#!/usr/bin/env python3
"""Computes the known answers of cipher/tests/legacy_answers.rs independently of
Sisu: Python's `cryptography` (OpenSSL) for AES/3DES/Blowfish/CAST5/RC4 in CBC or
stream mode, composed by hand into SSH packets (RFC 4253 §6, OpenSSH PROTOCOL §1.5
for encrypt-then-MAC), and Python's `hmac` for the MACs. Protocol 1's ciphers are
composed from single-DES (3DES-EDE with k1 = k2 = k3) and big-endian Blowfish with
the bytes of each 32-bit word swapped around it.

Run: python3 cipher/tests/kat/legacy_vectors.py
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, CAST5, Blowfish, TripleDES

KEY = bytes((i * 7 + 1) & 0xFF for i in range(64))
IV = bytes(0x10 + i for i in range(16))
MAC_KEY = bytes(0x30 + i for i in range(64))


def packet(payload, block, excluded):
    base = 1 if excluded else 5
    pad = block - (base + len(payload)) % block
    if pad < 4:
        pad += block
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + bytes(0xA0 + i for i in range(pad))


PAYLOADS = [b"\x05\x00\x00\x00\x0cssh-userauth", bytes(range(40)), b"\x02" * 100]

CIPHERS = {
    "aes128-cbc": (lambda: algorithms.AES(KEY[:16]), 16, 16),
    "aes192-cbc": (lambda: algorithms.AES(KEY[:24]), 16, 16),
    "aes256-cbc": (lambda: algorithms.AES(KEY[:32]), 16, 16),
    "rijndael-cbc@lysator.liu.se": (lambda: algorithms.AES(KEY[:32]), 16, 16),
    "3des-cbc": (lambda: TripleDES(KEY[:24]), 8, 8),
    "blowfish-cbc": (lambda: Blowfish(KEY[:16]), 8, 8),
    "cast128-cbc": (lambda: CAST5(KEY[:16]), 8, 8),
    "arcfour": (lambda: ARC4(KEY[:16]), 8, 0),
    "arcfour128": (lambda: ARC4(KEY[:16]), 8, 0),
    "arcfour256": (lambda: ARC4(KEY[:32]), 8, 0),
}

MACS = {
    "hmac-sha1": ("sha1", 20, 20),
    "hmac-sha1-96": ("sha1", 20, 12),
    "hmac-md5": ("md5", 16, 16),
    "hmac-md5-96-etm@openssh.com": ("md5", 16, 12),
    "hmac-ripemd160": ("ripemd160", 20, 20),
    "hmac-ripemd160-etm@openssh.com": ("ripemd160", 20, 20),
    "hmac-sha1-etm@openssh.com": ("sha1", 20, 20),
    "hmac-sha2-256": ("sha256", 32, 32),
    "hmac-md5-etm@openssh.com": ("md5", 16, 16),
    "hmac-sha2-512": ("sha512", 64, 64),
}

SUITES = [
    ("aes128-cbc", "hmac-sha1"),
    ("aes192-cbc", "hmac-sha1-96"),
    ("aes256-cbc", "hmac-md5"),
    ("rijndael-cbc@lysator.liu.se", "hmac-md5-96-etm@openssh.com"),
    ("3des-cbc", "hmac-ripemd160"),
    ("blowfish-cbc", "hmac-sha2-256"),
    ("cast128-cbc", "hmac-sha1-etm@openssh.com"),
    ("arcfour", "hmac-md5-etm@openssh.com"),
    ("arcfour128", "hmac-sha1"),
    ("arcfour256", "hmac-ripemd160-etm@openssh.com"),
]


def seal_all(cipher, mac):
    make, block, iv_len = CIPHERS[cipher]
    mode = modes.CBC(IV[:iv_len]) if iv_len else None
    enc = Cipher(make(), mode).encryptor()
    if cipher in ("arcfour128", "arcfour256"):
        enc.update(bytes(1536))  # RFC 4345
    digest, key_len, mac_len = MACS[mac]
    etm = "-etm@" in mac
    out = []
    for seq, payload in enumerate(PAYLOADS):
        p = packet(payload, block, etm)
        if etm:
            sealed = p[:4] + enc.update(p[4:])
            tag = hmac.new(MAC_KEY[:key_len], struct.pack(">I", seq) + sealed, digest).digest()
        else:
            tag = hmac.new(MAC_KEY[:key_len], struct.pack(">I", seq) + p, digest).digest()
            sealed = enc.update(p)
        out.append((sealed + tag[:mac_len]).hex())
    return out


def v1(cipher, data):
    key = KEY[:32]
    if cipher == "des":
        return Cipher(TripleDES(key[:8] * 3), modes.CBC(bytes(8))).encryptor().update(data)
    if cipher == "3des":
        k1, k2, k3 = key[:8], key[8:16], key[16:24]
        a = Cipher(TripleDES(k1 * 3), modes.CBC(bytes(8))).encryptor().update(data)
        b = Cipher(TripleDES(k2 * 3), modes.CBC(bytes(8))).decryptor().update(a)
        return Cipher(TripleDES(k3 * 3), modes.CBC(bytes(8))).encryptor().update(b)
    if cipher == "blowfish":
        swap = lambda d: b"".join(d[i:i + 4][::-1] for i in range(0, len(d), 4))
        return swap(Cipher(Blowfish(key), modes.CBC(bytes(8))).encryptor().update(swap(data)))
    raise ValueError(cipher)


if __name__ == "__main__":
    for cipher, mac in SUITES:
        print(f'    ("{cipher}", "{mac}", [')
        for h in seal_all(cipher, mac):
            print(f'        "{h}",')
        print("    ]),")
    data = bytes(range(48))
    for c in ("3des", "blowfish", "des"):
        print(f'    ("{c}", "{v1(c, data).hex()}"),')
