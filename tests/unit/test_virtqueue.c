/* cmocka: split virtqueues, device side (virtio 1.2 §2.7), on a plain buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/virtio/virtqueue.h"

#define RAM_SIZE	(1u << 20)
#define QSZ		8
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define TABLE		0x4000		/* indirect tables */
#define BUF		0x10000
#define NO_FEATURES	0
#define ALL_FEATURES	VIRTQ_FEATURES

struct fx {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtq vq;
	struct iovec iov[64];
	struct virtq_chain c;
};

/* ---- building rings by hand, as a driver would ---- */

static void put_desc(struct fx *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t fl = htole16(flags), n = htole16(next);
	uint8_t *d = f->ram + table + 16 * i;

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &fl, 2);
	memcpy(d + 14, &n, 2);
}

static uint16_t *ring16(struct fx *f, uint64_t gpa)
{
	return (uint16_t *)(void *)(f->ram + gpa);
}

static uint32_t *ring32(struct fx *f, uint64_t gpa)
{
	return (uint32_t *)(void *)(f->ram + gpa);
}

/* Make chain @head available: ring[idx % N] = head, then idx++. */
static void offer(struct fx *f, uint16_t head)
{
	uint16_t idx = le16toh(*ring16(f, AVAIL + 2));

	*ring16(f, AVAIL + 4 + 2 * (idx % QSZ)) = htole16(head);
	*ring16(f, AVAIL + 2) = htole16((uint16_t)(idx + 1));
}

static int enable(struct fx *f, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		  uint64_t features)
{
	struct virtq_addr a = { .size = size, .desc = desc, .avail = avail, .used = used };

	return virtq_enable(&f->vq, &f->mem, &a, features);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	guest_mem_layout(&f->mem, f->ram, RAM_SIZE);
	virtq_init(&f->vq, "testq");
	assert_int_equal(enable(f, QSZ, DESC, AVAIL, USED, ALL_FEATURES), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

/* Raw and asserting pops (STYLE 12). */
static int __pop(struct fx *f, enum virtq_err *why)
{
	f->c = (struct virtq_chain){ .iov = f->iov, .iov_max = 64 };
	return virtq_pop(&f->vq, &f->c, why);
}

static void pop_ok(struct fx *f)
{
	enum virtq_err why;

	assert_int_equal(__pop(f, &why), 0);
	assert_int_equal(why, VIRTQ_OK);
}

/* Refused, broken from now on, and nothing written into the used ring. */
static void pop_refused(struct fx *f, enum virtq_err expect)
{
	enum virtq_err why;

	assert_int_equal(__pop(f, &why), -EINVAL);
	assert_int_equal(why, expect);
	assert_true(f->vq.broken);
	assert_int_equal(f->vq.err, expect);
	assert_int_equal(*ring16(f, USED + 2), 0);
	assert_int_equal(__pop(f, &why), -EIO);
	assert_non_null(virtq_strerror(expect));
}

static void assert_seg(struct fx *f, unsigned i, uint64_t gpa, size_t len)
{
	assert_ptr_equal(f->c.iov[i].iov_base, f->ram + gpa);
	assert_int_equal(f->c.iov[i].iov_len, len);
}

/* ---- well-formed chains ---- */

static void two_descriptor_chain(void **state)
{
	struct fx *f = *state;
	enum virtq_err why;

	put_desc(f, DESC, 5, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(f, DESC, 2, BUF + 0x1000, 512, VRING_DESC_F_WRITE, 0);
	offer(f, 5);
	pop_ok(f);
	assert_int_equal(f->c.head, 5);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 1);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 512);
	assert_seg(f, 0, BUF, 16);
	assert_seg(f, 1, BUF + 0x1000, 512);
	assert_int_equal(__pop(f, &why), -EAGAIN);
}

/* A chain given back is popped again, unchanged; nothing was used. */
static void unpop_returns_chain(void **state)
{
	struct fx *f = *state;
	enum virtq_err why;

	put_desc(f, DESC, 3, BUF + 0x1000, 512, VRING_DESC_F_WRITE, 0);
	put_desc(f, DESC, 4, BUF + 0x2000, 256, VRING_DESC_F_WRITE, 0);
	offer(f, 3);
	offer(f, 4);
	pop_ok(f);
	assert_int_equal(f->c.head, 3);
	pop_ok(f);
	assert_int_equal(f->c.head, 4);
	virtq_unpop(&f->vq, 2);
	pop_ok(f);
	assert_int_equal(f->c.head, 3);
	assert_seg(f, 0, BUF + 0x1000, 512);
	pop_ok(f);
	assert_int_equal(f->c.head, 4);
	assert_int_equal(__pop(f, &why), -EAGAIN);
}

static void indirect_chain(void **state)
{
	struct fx *f = *state;

	put_desc(f, TABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, TABLE, 1, BUF + 0x1000, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	put_desc(f, TABLE, 2, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	/* §2.7.5.3.2: the table descriptor's WRITE flag is ignored. */
	put_desc(f, DESC, 0, TABLE, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	pop_ok(f);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 2);
	assert_int_equal(f->c.in_len, 4097);
	assert_seg(f, 0, BUF, 16);
	assert_seg(f, 2, BUF + 0x3000, 1);
}

/* §2.7.5.3.2: normal descriptors, then one indirect. */
static void direct_then_indirect(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 3);
	put_desc(f, DESC, 3, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(f, TABLE, 0, BUF + 0x100, 1, VRING_DESC_F_WRITE, 0);
	offer(f, 1);
	pop_ok(f);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 1);
	assert_seg(f, 1, BUF + 0x100, 1);
}

static void avail_idx_wraps_at_65535(void **state)
{
	struct fx *f = *state;

	f->vq.last_avail_idx = f->vq.used_idx = f->vq.signalled_used = 65535;
	*ring16(f, AVAIL + 2) = htole16(65535);
	*ring16(f, USED + 2) = htole16(65535);
	put_desc(f, DESC, 3, BUF, 8, 0, 0);
	put_desc(f, DESC, 4, BUF, 8, 0, 0);
	offer(f, 3);		/* slot 65535 % 8 = 7, idx -> 0 */
	offer(f, 4);		/* slot 0, idx -> 1 */
	assert_int_equal(*ring16(f, AVAIL + 2), 1);
	pop_ok(f);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->vq.last_avail_idx, 0);
	assert_int_equal(virtq_push(&f->vq, 3, 0), 0);
	assert_int_equal(le32toh(*ring32(f, USED + 4 + 8 * 7)), 3);
	assert_int_equal(le16toh(*ring16(f, USED + 2)), 0);
	pop_ok(f);
	assert_int_equal(f->c.head, 4);
	assert_int_equal(virtq_push(&f->vq, 4, 0), 0);
	assert_int_equal(le32toh(*ring32(f, USED + 4)), 4);
	assert_int_equal(le16toh(*ring16(f, USED + 2)), 1);
}

static void full_ring_is_fine(void **state)
{
	struct fx *f = *state;
	unsigned i;

	for (i = 0; i < QSZ; i++) {
		put_desc(f, DESC, i, BUF + 16 * i, 16, 0, 0);
		offer(f, (uint16_t)i);
	}
	for (i = 0; i < QSZ; i++) {
		pop_ok(f);
		assert_int_equal(f->c.head, i);
	}
}

static void used_ring_writes(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, BUF, 512, VRING_DESC_F_WRITE, 0);
	put_desc(f, DESC, 6, BUF + 512, 512, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	offer(f, 6);
	pop_ok(f);
	pop_ok(f);
	/* Completed out of order, as virtio-blk may. */
	assert_int_equal(virtq_push(&f->vq, 6, 512), 0);
	assert_int_equal(le16toh(*ring16(f, USED + 2)), 1);
	assert_int_equal(virtq_push(&f->vq, 0, 17), 0);
	assert_int_equal(le32toh(*ring32(f, USED + 4)), 6);
	assert_int_equal(le32toh(*ring32(f, USED + 8)), 512);
	assert_int_equal(le32toh(*ring32(f, USED + 12)), 0);
	assert_int_equal(le32toh(*ring32(f, USED + 16)), 17);
	assert_int_equal(le16toh(*ring16(f, USED + 2)), 2);
	assert_int_equal(virtq_push(&f->vq, QSZ, 0), -EINVAL);
	assert_int_equal(le16toh(*ring16(f, USED + 2)), 2);
}

/* ---- notification suppression ---- */

static void need_event_cases(void **state)
{
	(void)state;
	/* §2.7.7.2: notify when used_event is in [old, new). */
	assert_true(virtq_need_event(0, 1, 0));
	assert_false(virtq_need_event(1, 1, 0));
	assert_true(virtq_need_event(3, 5, 2));
	assert_true(virtq_need_event(2, 5, 2));
	assert_false(virtq_need_event(5, 5, 2));
	assert_false(virtq_need_event(1, 5, 2));
	assert_false(virtq_need_event(7, 7, 7));
	/* Across the 16-bit wrap. */
	assert_true(virtq_need_event(65535, 1, 65534));
	assert_true(virtq_need_event(0, 1, 65534));
	assert_false(virtq_need_event(1, 1, 65534));
	assert_false(virtq_need_event(65533, 1, 65534));
}

static void push_n(struct fx *f, unsigned n)
{
	while (n--)
		assert_int_equal(virtq_push(&f->vq, 0, 0), 0);
}

static void used_event_suppresses(void **state)
{
	struct fx *f = *state;
	uint16_t *used_event = ring16(f, AVAIL + 4 + 2 * QSZ);

	*used_event = htole16(0);
	push_n(f, 1);			/* idx 0 -> 1 crosses used_event 0 */
	assert_true(virtq_need_notify(&f->vq));
	push_n(f, 1);
	assert_false(virtq_need_notify(&f->vq));
	*used_event = htole16(3);
	push_n(f, 2);			/* 2 -> 4 writes entry 3 */
	assert_true(virtq_need_notify(&f->vq));
	/* §2.7.7.2: with EVENT_IDX the flags' low bit is ignored. */
	*ring16(f, AVAIL) = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	*used_event = htole16(4);
	push_n(f, 1);
	assert_true(virtq_need_notify(&f->vq));
}

static void no_interrupt_flag(void **state)
{
	struct fx *f = *state;

	assert_int_equal(enable(f, QSZ, DESC, AVAIL, USED, NO_FEATURES), 0);
	push_n(f, 1);
	assert_true(virtq_need_notify(&f->vq));
	*ring16(f, AVAIL) = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	push_n(f, 1);
	assert_false(virtq_need_notify(&f->vq));
}

static void avail_event_asks_for_kicks(void **state)
{
	struct fx *f = *state;
	uint16_t *avail_event = ring16(f, USED + 4 + 8 * QSZ);

	put_desc(f, DESC, 0, BUF, 8, 0, 0);
	offer(f, 0);
	offer(f, 0);
	pop_ok(f);
	virtq_disable_notify(&f->vq);
	assert_int_equal(*ring16(f, USED), 0);	/* §2.7.10.2: flags stay 0 */
	assert_true(virtq_enable_notify(&f->vq));	/* one more is waiting */
	assert_int_equal(le16toh(*avail_event), 1);
	pop_ok(f);
	assert_false(virtq_enable_notify(&f->vq));
	assert_int_equal(le16toh(*avail_event), 2);
}

static void no_notify_flag(void **state)
{
	struct fx *f = *state;

	assert_int_equal(enable(f, QSZ, DESC, AVAIL, USED, NO_FEATURES), 0);
	virtq_disable_notify(&f->vq);
	assert_int_equal(le16toh(*ring16(f, USED)), VRING_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&f->vq));
	assert_int_equal(*ring16(f, USED), 0);
	assert_int_equal(*ring16(f, USED + 4 + 8 * QSZ), 0);	/* avail_event untouched */
}

/* ---- malicious drivers ---- */

static void descriptor_loop(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_CHAIN_LONG);
}

static void self_loop_in_indirect_table(void **state)
{
	struct fx *f = *state;

	put_desc(f, TABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, TABLE, 1, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_CHAIN_LONG);
}

/* §2.7.5.3.1: an indirect table makes room for a chain longer than the queue. */
static void chain_longer_than_queue(void **state)
{
	struct fx *f = *state;
	unsigned i;

	for (i = 0; i < QSZ + 1; i++)
		put_desc(f, TABLE, i, BUF, 16, i < QSZ ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	put_desc(f, DESC, 0, TABLE, 16 * (QSZ + 1), VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_CHAIN_LONG);
}

static void more_segments_than_caller_allows(void **state)
{
	struct fx *f = *state;
	enum virtq_err why;

	put_desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(f, DESC, 2, BUF, 16, 0, 0);
	offer(f, 0);
	f->c = (struct virtq_chain){ .iov = f->iov, .iov_max = 2 };
	assert_int_equal(virtq_pop(&f->vq, &f->c, &why), -EINVAL);
	assert_int_equal(why, VIRTQ_E_SEGS);
}

static void address_outside_ram(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, RAM_SIZE - 8, 16, VRING_DESC_F_WRITE, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_ADDR);
}

static void address_plus_len_wraps(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, 0xffffffffffffff00ull, 0x200, 0, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_ADDR);
}

static void indirect_table_outside_ram(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_ADDR);
}

static void head_index_beyond_queue(void **state)
{
	struct fx *f = *state;

	offer(f, QSZ);
	pop_refused(f, VIRTQ_E_INDEX);
}

static void next_index_beyond_queue(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 0xffff);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDEX);
}

static void next_index_beyond_indirect_table(void **state)
{
	struct fx *f = *state;

	put_desc(f, TABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(f, DESC, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDEX);
}

static void writable_then_readable(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF + 16, 16, 0, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_ORDER);
}

static void nested_indirect(void **state)
{
	struct fx *f = *state;

	put_desc(f, TABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(f, TABLE, 1, TABLE + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(f, DESC, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDIRECT_NESTED);
}

static void indirect_with_next(void **state)
{
	struct fx *f = *state;

	put_desc(f, TABLE, 0, BUF, 16, 0, 0);
	put_desc(f, DESC, 0, TABLE, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	put_desc(f, DESC, 1, BUF, 16, 0, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDIRECT_NEXT);
}

static void indirect_len_not_multiple_of_16(void **state)
{
	struct fx *f = *state;

	put_desc(f, TABLE, 0, BUF, 16, 0, 0);
	put_desc(f, DESC, 0, TABLE, 24, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDIRECT_LEN);
}

static void indirect_len_zero(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, TABLE, 0, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDIRECT_LEN);
}

static void indirect_not_negotiated(void **state)
{
	struct fx *f = *state;

	assert_int_equal(enable(f, QSZ, DESC, AVAIL, USED, NO_FEATURES), 0);
	put_desc(f, TABLE, 0, BUF, 16, 0, 0);
	put_desc(f, DESC, 0, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, 0);
	pop_refused(f, VIRTQ_E_INDIRECT_FEATURE);
}

static void avail_idx_jumps_past_queue_size(void **state)
{
	struct fx *f = *state;

	put_desc(f, DESC, 0, BUF, 16, 0, 0);
	*ring16(f, AVAIL + 2) = htole16(QSZ + 1);
	pop_refused(f, VIRTQ_E_AVAIL_IDX);
	/* Reset and enable again: a fresh queue works. */
	virtq_reset(&f->vq);
	assert_int_equal(enable(f, QSZ, DESC, AVAIL, USED, ALL_FEATURES), 0);
	*ring16(f, AVAIL + 2) = htole16(1);
	pop_ok(f);
}

static void refused_enable(struct fx *f, uint16_t size, uint64_t desc, uint64_t avail,
			   uint64_t used, enum virtq_err expect)
{
	enum virtq_err why;

	assert_int_equal(enable(f, size, desc, avail, used, ALL_FEATURES), -EINVAL);
	assert_false(f->vq.enabled);
	assert_int_equal(f->vq.err, expect);
	assert_int_equal(__pop(f, &why), -EIO);
	assert_int_equal(virtq_push(&f->vq, 0, 0), -EINVAL);
}

static void enable_refuses_bad_rings(void **state)
{
	struct fx *f = *state;

	refused_enable(f, 0, DESC, AVAIL, USED, VIRTQ_E_SIZE);
	refused_enable(f, 6, DESC, AVAIL, USED, VIRTQ_E_SIZE);
	refused_enable(f, 65535, DESC, AVAIL, USED, VIRTQ_E_SIZE);
	refused_enable(f, QSZ, DESC + 8, AVAIL, USED, VIRTQ_E_ALIGN);
	refused_enable(f, QSZ, DESC, AVAIL + 1, USED, VIRTQ_E_ALIGN);
	refused_enable(f, QSZ, DESC, AVAIL, USED + 2, VIRTQ_E_ALIGN);
	refused_enable(f, QSZ, RAM_SIZE, AVAIL, USED, VIRTQ_E_RING_ADDR);
	refused_enable(f, QSZ, DESC, 0xfffffffffffffffeull, USED, VIRTQ_E_RING_ADDR);
	/* The avail_event trailer (2 bytes after the ring) must be in RAM too. */
	refused_enable(f, QSZ, DESC, AVAIL, RAM_SIZE - (4 + 8 * QSZ), VIRTQ_E_RING_ADDR);
	refused_enable(f, QSZ, DESC, RAM_SIZE - (4 + 2 * QSZ), USED, VIRTQ_E_RING_ADDR);
	/*
	 * Found by fuzz_virtio_net (a timeout): the used ring's flags over avail->idx.
	 * Each disable/enable of notifications rewrote idx, so "buffers arrived
	 * meanwhile" stayed true and the worker never left its loop.
	 */
	refused_enable(f, QSZ, DESC, AVAIL, AVAIL, VIRTQ_E_RING_OVERLAP);
	refused_enable(f, QSZ, DESC, AVAIL, AVAIL + 4 + 2 * QSZ - 4, VIRTQ_E_RING_OVERLAP);
	refused_enable(f, QSZ, DESC, AVAIL, DESC + 16 * QSZ - 4, VIRTQ_E_RING_OVERLAP);
	assert_int_equal(enable(f, QSZ, DESC, AVAIL, AVAIL + ((6 + 2 * QSZ + 3) & ~3u), 0), 0);
	/* 32768 entries: 512 KiB of descriptors still fit. */
	assert_int_equal(enable(f, 32768, 0, 0x80000, 0xa0000, ALL_FEATURES), 0);
	assert_int_equal(enable(f, QSZ, DESC, AVAIL, RAM_SIZE - (6 + 8 * QSZ) - 2, 0), 0);
}

/*
 * §2.7.5.2: at most 2^32 bytes. Buffers that large need RAM that large:
 * reserve 5 GiB of address space and back only the first MiB, where the
 * rings are. A refused chain is never read, so nothing faults.
 */
static void len_sum_overflows(void **state)
{
	const uint64_t span = 5ull << 30, high = 4ull << 30;
	struct fx big = { 0 };
	enum virtq_err why;

	(void)state;
	big.ram = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(big.ram != MAP_FAILED);
	assert_int_equal(mprotect(big.ram, RAM_SIZE, PROT_READ | PROT_WRITE), 0);
	guest_mem_layout(&big.mem, big.ram, span);
	virtq_init(&big.vq, "bigq");
	assert_int_equal(enable(&big, QSZ, DESC, AVAIL, USED, 0), 0);
	put_desc(&big, DESC, 0, high, 0x80000000u, VRING_DESC_F_NEXT, 1);
	put_desc(&big, DESC, 1, high, 0x7fffffffu, VRING_DESC_F_WRITE, 0);
	offer(&big, 0);
	pop_ok(&big);			/* 2^32 - 1 bytes: fine */
	assert_int_equal(big.c.out_len, 0x80000000u);
	put_desc(&big, DESC, 1, high, 0x80000000u, VRING_DESC_F_WRITE, 0);
	offer(&big, 0);
	assert_int_equal(__pop(&big, &why), -EINVAL);
	assert_int_equal(why, VIRTQ_E_LEN);
	munmap(big.ram, span);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(two_descriptor_chain), T(unpop_returns_chain), T(indirect_chain), T(direct_then_indirect),
		T(avail_idx_wraps_at_65535), T(full_ring_is_fine), T(used_ring_writes),
		T(need_event_cases), T(used_event_suppresses), T(no_interrupt_flag),
		T(avail_event_asks_for_kicks), T(no_notify_flag),
		T(descriptor_loop), T(self_loop_in_indirect_table), T(chain_longer_than_queue),
		T(more_segments_than_caller_allows), T(address_outside_ram),
		T(address_plus_len_wraps), T(indirect_table_outside_ram),
		T(head_index_beyond_queue), T(next_index_beyond_queue),
		T(next_index_beyond_indirect_table), T(writable_then_readable),
		T(nested_indirect), T(indirect_with_next), T(indirect_len_not_multiple_of_16),
		T(indirect_len_zero), T(indirect_not_negotiated),
		T(avail_idx_jumps_past_queue_size), T(enable_refuses_bad_rings),
		T(len_sum_overflows),
	};
	return cmocka_run_group_tests_name("virtqueue", tests, NULL, NULL);
}
