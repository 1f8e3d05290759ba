"""Byte-level helpers for tests that craft or read what the node writes: the
MurmurHash3 x86_32 checksum (Debian's python3 has no murmur3 module; the
node checksums log records and client contexts with libmurmurhash's
lmmh_x86_32), unsigned LEB128 varints (src/util/varint.h), and the
append-only log's record framing (src/core/aof_scan.h)."""

import struct


def murmur3_x86_32(data, seed=0):
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & 0xFFFFFFFF
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    tail = data[4 * nblocks:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def varint(n):
    """n >= 0 as an unsigned LEB128 varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def get_varint(p, pos):
    """Decodes the varint at p[pos:] -> (value, position after it)."""
    n = shift = 0
    while True:
        b = p[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, pos


AOF_SEED = 0xA0F1
AOF_KEY = 1   # payload: varint klen, key, versions


def aof_record(typ, payload):
    """A log record with a valid checksum: u32 payload length, u32 checksum
    of type + payload, u8 type, payload."""
    body = bytes([typ]) + payload
    return struct.pack("<II", len(payload), murmur3_x86_32(body, AOF_SEED)) + body


def aof_records(data):
    """The whole records of a log image, in order: [(offset, total length,
    type, key or None)] (the key of AOF_KEY records, latin-1)."""
    out, pos = [], 0
    while pos + 9 <= len(data):
        plen, _sum, typ = struct.unpack_from("<IIB", data, pos)
        if pos + 9 + plen > len(data):
            break
        key = None
        if typ == AOF_KEY:
            klen, at = get_varint(data, pos + 9)
            key = data[at:at + klen].decode("latin-1")
        out.append((pos, 9 + plen, typ, key))
        pos += 9 + plen
    return out
