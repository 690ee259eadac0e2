/* SPDX-License-Identifier: MIT */
/*
 * msg.h - the one message codec of the channel tests: a message is a
 * function of (writer id, sequence number) and proves its owner, its place
 * and its integrity (DPDK's check_updt_elem does the same for ring slots).
 *
 * A message of MSG_HDR bytes or more starts with struct msg_hdr:
 *	tag   the writer id (24 bits) above the sequence number (40 bits)
 *	len   the message's length
 *	sum   a checksum of the tag, the length and the body
 * and its body is a pattern of (id, seq).  A shorter message is all
 * pattern, so only a reader that knows which message it waits for can
 * check it (msg_check_is).  msg_fill writes a message; msg_check reads the
 * header of one and checks it whole (length field, checksum, every byte of
 * the body); msg_check_is also wants a given (id, seq).  Both answer NULL
 * or why not, so a test process asserts on it and a child reports it
 * (kids.h kid_fail).
 */
#ifndef SHMKIT_TEST_MSG_H
#define SHMKIT_TEST_MSG_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

#define MSG_HDR 16                          /* sizeof(struct msg_hdr) */
#define MSG_SEQ_BITS 40
#define MSG_ID_LIMIT ((uint32_t)1 << 24)    /* writer ids are below this */

struct msg_hdr {
	uint64_t tag;   /* id << MSG_SEQ_BITS | seq */
	uint32_t len;   /* the message's length */
	uint32_t sum;   /* msg_sum of the tag, the length and the body */
};
_Static_assert(sizeof(struct msg_hdr) == MSG_HDR, "the header is MSG_HDR bytes");

static inline uint64_t msg_tag(uint32_t id, uint64_t seq)
{
	return (uint64_t)id << MSG_SEQ_BITS | (seq & (((uint64_t)1 << MSG_SEQ_BITS) - 1));
}

/* FNV-1a over 64-bit words (then the tail bytes) of @n bytes, started from
 * the tag and the length, folded to 32 bits. */
static inline uint32_t msg_sum(uint64_t tag, uint32_t len, const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL, w;
	size_t i = 0;

	h = (h ^ tag) * 0x100000001b3ULL;
	h = (h ^ len) * 0x100000001b3ULL;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/* The pattern of the message tagged @tag: its 8-byte word at body offset
 * i is msg_word(msg_key(tag), i). */
static inline uint64_t msg_key(uint64_t tag)
{
	return mix64(tag * 0x2545f4914f6cdd1dULL + 1);
}

static inline uint64_t msg_word(uint64_t key, size_t i)
{
	return key ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL);
}

/* Whether @n bytes at @p are the pattern of the message tagged @tag. */
static inline bool msg_body_ok(const unsigned char *p, size_t n, uint64_t tag)
{
	uint64_t key = msg_key(tag), v;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, 8);
		if (v != msg_word(key, i))
			return false;
	}
	uint64_t w = msg_word(key, i);
	return memcmp(p + i, &w, n - i) == 0;
}

/* Writes message (@id, @seq) of @n bytes (n >= 1) at @p. */
static inline void msg_fill(void *p, size_t n, uint32_t id, uint64_t seq)
{
	unsigned char *b = p;
	uint64_t tag = msg_tag(id, seq), key = msg_key(tag);
	size_t off = n >= MSG_HDR ? MSG_HDR : 0;

	for (size_t i = 0; off + i < n; i += 8) {
		uint64_t w = msg_word(key, i);
		memcpy(b + off + i, &w, n - off - i < 8 ? n - off - i : 8);
	}
	if (off) {
		struct msg_hdr h = { .tag = tag, .len = (uint32_t)n };
		h.sum = msg_sum(tag, h.len, b + MSG_HDR, n - MSG_HDR);
		memcpy(b, &h, sizeof(h));
	}
}

/* NULL if the @n bytes at @p are a whole message (header, checksum, body),
 * its writer and number in *id and *seq; else why not. */
static inline const char *msg_check(const void *p, size_t n, uint32_t *id, uint64_t *seq)
{
	const unsigned char *b = p;
	struct msg_hdr h;

	if (n < MSG_HDR)
		return "shorter than a header";
	memcpy(&h, b, sizeof(h));
	*id = (uint32_t)(h.tag >> MSG_SEQ_BITS);
	*seq = h.tag & (((uint64_t)1 << MSG_SEQ_BITS) - 1);
	if (h.len != n)
		return "length field differs from the length received";
	if (h.sum != msg_sum(h.tag, h.len, b + MSG_HDR, n - MSG_HDR))
		return "bad checksum (damaged payload)";
	if (!msg_body_ok(b + MSG_HDR, n - MSG_HDR, h.tag))
		return "payload differs from the one sent";
	return NULL;
}

/* NULL if the @n bytes at @p are message (@id, @seq), else why not. */
static inline const char *msg_check_is(const void *p, size_t n, uint32_t id, uint64_t seq)
{
	if (n < MSG_HDR)
		return msg_body_ok(p, n, msg_tag(id, seq)) ? NULL
			: "payload differs from the one sent (a message shorter than a header)";
	uint32_t got_id;
	uint64_t got_seq;
	const char *why = msg_check(p, n, &got_id, &got_seq);
	if (why)
		return why;
	if (got_id != id)
		return "another writer's message";
	if (got_seq != (seq & (((uint64_t)1 << MSG_SEQ_BITS) - 1)))
		return "wrong sequence number (lost, repeated or reordered)";
	return NULL;
}

static inline bool msg_is(const void *p, size_t n, uint32_t id, uint64_t seq)
{
	return msg_check_is(p, n, id, seq) == NULL;
}

/* The sequence number a message's header carries (for messages: none in
 * one shorter than a header, UINT64_MAX). */
static inline uint64_t msg_seq_of(const void *p, size_t n)
{
	struct msg_hdr h;
	if (n < MSG_HDR)
		return UINT64_MAX;
	memcpy(&h, p, sizeof(h));
	return h.tag & (((uint64_t)1 << MSG_SEQ_BITS) - 1);
}

#endif
