/* slot.h — Redis Cluster's hash slots, Dynamo's fixed partitions (the
 * paper's strategy 3: Q equal-sized partitions, here Q = 16384).  Pure.
 *
 * A key's slot is CRC16 (XMODEM: polynomial 0x1021, initial value 0, no
 * reflection) of the key modulo 16384, exactly as Redis Cluster computes
 * it, so cluster-aware clients route each key to the node that owns its
 * slot.  Hash tag rule: when the key contains a '{' and, after the first
 * '{', a '}' with at least one byte between them, only the bytes between
 * that first '{' and the first '}' after it are hashed ("{user1}.a" and
 * "{user1}.b" share a slot; "{}x" and "a{}{b}" hash whole).
 *
 * Slots are placed on the consistent-hash ring (ring.h: ring_slot_pos), so
 * every key of one slot has the same preference list.
 */
#ifndef KV_SLOT_H
#define KV_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT 16384u

/* CRC16-XMODEM of p[0..len) (CRC16("123456789") = 0x31C3). */
uint16_t slot_crc16(const void *p, size_t len);

/* HOT: the hash slot of key[0..klen), in [0, SLOT_COUNT).  key borrowed
 * (any bytes, need not be NUL-terminated). */
unsigned slot_of_key(const void *key, size_t klen);

#endif
