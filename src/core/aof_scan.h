/* aof_scan.h — framing of the append-only log's records. Pure module: no
 * I/O, no store.
 *
 * A record is: u32 payload length (LE), u32 checksum (MurmurHash3 x86_32,
 * seed AOF_SEED, over the type byte and the payload), u8 type, payload.
 *
 * aof_scan() walks a whole log image and sorts every byte into one of:
 *   - good records, handed to the caller's callback in file order; the
 *     callback says whether it could apply the record.  A record that passes
 *     its checksum but cannot be applied is "unreadable": the scan goes on
 *     past it and reports it; it is never a reason to cut the file.
 *   - corrupt regions: bytes between two good records that do not form a
 *     record (damaged length, checksum mismatch).  The scan resynchronises
 *     on the next offset where a whole record with a valid checksum starts,
 *     so damage in the middle never costs the records after it.
 *   - the torn tail: bytes after the last good record from which no whole
 *     record can be resynchronised (a crash in the middle of a write).  Only
 *     this part is meant to be cut off (the caller decides and keeps a copy).
 *
 * Resynchronisation hashes candidate records; the total bytes it may hash
 * are bounded (AOF_SCAN_RESYNC_BUDGET plus the image size), so a hostile
 * value inside a torn record cannot make start-up quadratic.  When the
 * budget runs out, the rest of the image counts as torn tail.
 *
 * Limits: what aof_rec_frame() accepts to frame (payload <= AOF_MAX_PAYLOAD)
 * is exactly what aof_scan() accepts to read: the writer never produces a
 * record the reader refuses.
 *
 * Callers: aof.c (replay, record writing), tests/fuzz/fuzz_aof.c.
 */
#ifndef KV_AOF_SCAN_H
#define KV_AOF_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define AOF_HDR 9                    /* u32 len, u32 checksum, u8 type */
#define AOF_MAX_PAYLOAD (UINT32_MAX - AOF_HDR) /* the largest length a record can carry */
#define AOF_SEED 0xa0f1u
#define AOF_SCAN_RESYNC_BUDGET ((size_t)64 << 20) /* bytes hashed while resyncing, beyond the image size */

enum aof_type {
    AOF_KEY = 1,   /* varint klen, key, sib_encode'd versions (none = removed) */
    AOF_HINT = 2,  /* u8 owner-name length, name, varint klen, key, versions */
    AOF_FLUSH = 3, /* [varint flush epoch >= 1]: every version stamped before
                      it was dropped; empty = everything so far (older logs) */
    AOF_MERGE = 4, /* as AOF_KEY, but the versions are reconciled into the
                      key's (a typed state's delta), not replacing them */
    AOF_TYPE_COUNT
};

/* Called for each record whose checksum holds.  p/len is the payload
 * (borrowed, valid during the call); off the record's offset in the image.
 * Returns false when the record cannot be applied (unreadable). */
typedef bool (*aof_record_fn)(void *arg, int type, const uint8_t *p, size_t len, size_t off);

struct aof_scan_report {
    size_t records;          /* good records applied */
    size_t unreadable;       /* good checksum, callback refused them */
    size_t corrupt_regions;  /* damaged stretches skipped by resynchronising */
    size_t corrupt_bytes;    /* their total size */
    size_t first_corrupt;    /* offset of the first one (valid if corrupt_regions) */
    size_t end;              /* offset just past the last good record */
    size_t torn;             /* bytes from end to the image's end: the torn tail */
};

/* Scans img[0..len).  Never fails: every byte is accounted for in rep. */
void aof_scan(const uint8_t *img, size_t len, aof_record_fn fn, void *arg,
              struct aof_scan_report *rep);

/* The parts of a key or hint record's payload (pointers into it). */
struct aof_rec {
    const uint8_t *owner;   /* hint records: the owner's name; else NULL */
    size_t owner_len;
    const uint8_t *key;
    size_t klen;
    const uint8_t *versions; /* sib_encode'd set (empty set = removed) */
    size_t vlen;
};
/* Splits a payload of type AOF_KEY or AOF_HINT.  false when it is
 * malformed (or another type). */
bool aof_rec_parse(int type, const uint8_t *p, size_t len, struct aof_rec *out);

/* Splits the payload of an AOF_FLUSH record: *epoch = its flush epoch (0
 * for the empty payload of older logs: everything so far).  false when it
 * is malformed (a non-canonical or zero varint, bytes after it, an epoch
 * past 32 bits). */
bool aof_flush_parse(const uint8_t *p, size_t len, uint32_t *epoch);

/* Whether a key of klen bytes whose encoded versions take set_bytes fits in
 * one record.  The write path refuses a change that would not, before it is
 * applied; nothing the node stores is ever too large to log. */
bool aof_fits(size_t klen, size_t set_bytes);

/* Begins a record of the given type in rec (cleared): header placeholder and
 * type byte.  The caller appends the payload, then calls aof_rec_frame. */
void aof_rec_begin(struct buf *rec, enum aof_type type);
/* Fills in the header of the record in rec.  false (rec unchanged) when the
 * payload is longer than AOF_MAX_PAYLOAD: such a record must not be written. */
bool aof_rec_frame(struct buf *rec);

#endif
