/* sluice: split virtqueues, device side (virtio 1.2 §2.7). */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/virtio/virtqueue.h"

/* struct virtq_desc (§2.7.5), host byte order once read. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct desc) == 16, "virtq_desc is 16 bytes");

#define AVAIL_FLAGS	0
#define AVAIL_IDX	2
#define AVAIL_RING	4		/* le16 ring[N], then le16 used_event */
#define USED_FLAGS	0
#define USED_IDX	2
#define USED_RING	4		/* {le32 id, le32 len}[N], then le16 avail_event */

/*
 * Ring fields shared with the driver. virtq_enable() checked that the host
 * address of each ring part has the part's alignment, so these are aligned.
 */
static uint16_t load16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, order));
}

static void store16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), order);
}

static void store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, htole32(v), __ATOMIC_RELAXED);
}

static uint8_t *used_event(const struct virtq *vq)
{
	return vq->avail + AVAIL_RING + 2 * (size_t)vq->addr.size;
}

static uint8_t *avail_event(const struct virtq *vq)
{
	return vq->used + USED_RING + 8 * (size_t)vq->addr.size;
}

void virtq_init(struct virtq *vq, const char *name)
{
	memset(vq, 0, sizeof(*vq));
	vq->name = name;
}

void virtq_reset(struct virtq *vq)
{
	virtq_init(vq, vq->name);
}

static enum virtq_err map_part(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
			       uint64_t align, uint8_t **hva)
{
	if (gpa % align)
		return VIRTQ_E_ALIGN;
	*hva = guest_mem_ptr(mem, gpa, len);
	if (!*hva)
		return VIRTQ_E_RING_ADDR;
	/* The atomics need the host address aligned too; true for mmap'd RAM. */
	if ((uintptr_t)*hva % align)
		return VIRTQ_E_ALIGN;
	return VIRTQ_OK;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;	/* both lie in RAM: no wrap */
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem,
		 const struct virtq_addr *addr, uint64_t features)
{
	uint64_t n = addr->size;
	enum virtq_err err;

	virtq_reset(vq);
	/* §2.7: the queue size is a power of 2, at most 32768. */
	err = VIRTQ_E_SIZE;
	if (n && !(n & (n - 1)) && n <= VIRTQ_MAX_SIZE)
		err = map_part(mem, addr->desc, 16 * n, 16, &vq->desc);
	if (!err)
		err = map_part(mem, addr->avail, 6 + 2 * n, 2, &vq->avail);
	if (!err)
		err = map_part(mem, addr->used, 6 + 8 * n, 4, &vq->used);
	/*
	 * The device writes only the used ring (§2.7). One laid over the avail
	 * ring would let the device's own flag and avail_event stores move
	 * avail->idx, and a worker waiting for it to settle would spin forever.
	 */
	if (!err && (overlap(addr->used, 6 + 8 * n, addr->avail, 6 + 2 * n) ||
		     overlap(addr->used, 6 + 8 * n, addr->desc, 16 * n)))
		err = VIRTQ_E_RING_OVERLAP;
	if (err) {
		vq->desc = vq->avail = vq->used = NULL;
		vq->err = err;
		return -EINVAL;
	}
	vq->mem = mem;
	vq->addr = *addr;
	vq->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->enabled = true;
	return 0;
}

struct walk {
	const struct virtq *vq;
	struct virtq_chain *c;
	uint64_t total;		/* bytes in the chain so far */
};

/* Copy once: the driver may change the table under us (it must not). */
static void read_desc(const uint8_t *table, uint32_t i, struct desc *d)
{
	memcpy(d, table + (size_t)i * sizeof(*d), sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static enum virtq_err add_seg(struct walk *w, const struct desc *d)
{
	struct virtq_chain *c = w->c;
	unsigned n = c->nr_out + c->nr_in;
	bool writable = d->flags & VRING_DESC_F_WRITE;
	void *p;

	/* §2.7.4.2: device-writable buffers come after device-readable ones. */
	if (!writable && c->nr_in)
		return VIRTQ_E_ORDER;
	/* §2.7.5.2: at most 2^32 bytes; we keep the total a valid used len. */
	w->total += d->len;
	if (w->total > UINT32_MAX)
		return VIRTQ_E_LEN;
	/* §2.7.5.3.1: no chain longer than the queue size, indirect or not. */
	if (n >= w->vq->addr.size)
		return VIRTQ_E_CHAIN_LONG;
	if (n >= c->iov_max)
		return VIRTQ_E_SEGS;
	p = guest_mem_ptr(w->vq->mem, d->addr, d->len);
	if (!p)
		return VIRTQ_E_ADDR;
	c->iov[n] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	if (writable) {
		c->nr_in++;
		c->in_len += d->len;
	} else {
		c->nr_out++;
		c->out_len += d->len;
	}
	return VIRTQ_OK;
}

static enum virtq_err walk_table(struct walk *w, const uint8_t *table, uint32_t entries,
				 uint16_t i, bool in_indirect);

/* §2.7.5.3: @d refers to a table of d->len / 16 descriptors. */
static enum virtq_err walk_indirect(struct walk *w, const struct desc *d)
{
	const uint8_t *table;

	/* §2.7.5.3.1; the table descriptor's WRITE flag is ignored (§2.7.5.3.2). */
	if (!w->vq->indirect)
		return VIRTQ_E_INDIRECT_FEATURE;
	if (d->flags & VRING_DESC_F_NEXT)
		return VIRTQ_E_INDIRECT_NEXT;
	if (!d->len || d->len % sizeof(struct desc))
		return VIRTQ_E_INDIRECT_LEN;
	table = guest_mem_ptr(w->vq->mem, d->addr, d->len);
	if (!table)
		return VIRTQ_E_ADDR;
	return walk_table(w, table, d->len / sizeof(struct desc), 0, true);
}

/*
 * Follow NEXT from entry @i. A chain visiting more entries than the table
 * holds has a loop (§2.7.5.2 forbids them): stop there, so every walk ends.
 */
static enum virtq_err walk_table(struct walk *w, const uint8_t *table, uint32_t entries,
				 uint16_t i, bool in_indirect)
{
	enum virtq_err err;
	uint32_t visited;
	struct desc d;

	for (visited = 1;; visited++) {
		if (i >= entries)
			return VIRTQ_E_INDEX;
		if (visited > entries)
			return VIRTQ_E_CHAIN_LONG;
		read_desc(table, i, &d);
		/* §2.7.5.3.2: chained descriptors, then at most one indirect. */
		if (d.flags & VRING_DESC_F_INDIRECT)
			return in_indirect ? VIRTQ_E_INDIRECT_NESTED : walk_indirect(w, &d);
		err = add_seg(w, &d);
		if (err)
			return err;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return VIRTQ_OK;
		i = d.next;
	}
}

void virtq_set_broken(struct virtq *vq, enum virtq_err err)
{
	vq->broken = true;
	vq->err = err;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c, enum virtq_err *why)
{
	struct walk w = { .vq = vq, .c = c };
	uint16_t avail_idx, slot;
	enum virtq_err err;

	*why = VIRTQ_OK;
	if (!vq->enabled || vq->broken)
		return -EIO;
	/* Pairs with the driver's barrier before its idx store (§2.7.13.3.1). */
	avail_idx = load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail_idx)
		return -EAGAIN;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	/*
	 * The ring has N entries (§2.7), so the driver can never be more than N
	 * ahead of us (§2.7.13: "the ring buffer is the same size as the
	 * descriptor table"); further means it overwrote entries we have not
	 * read, or its idx is garbage.
	 */
	err = VIRTQ_E_AVAIL_IDX;
	if ((uint16_t)(avail_idx - vq->last_avail_idx) <= vq->addr.size) {
		slot = vq->last_avail_idx & (vq->addr.size - 1);
		c->head = load16(vq->avail + AVAIL_RING + 2 * (size_t)slot, __ATOMIC_RELAXED);
		err = walk_table(&w, vq->desc, vq->addr.size, c->head, false);
	}
	if (err) {
		virtq_set_broken(vq, err);
		*why = err;
		return -EINVAL;
	}
	vq->last_avail_idx++;
	return 0;
}

int virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint8_t *elem;

	if (!vq->enabled || head >= vq->addr.size)
		return -EINVAL;
	elem = vq->used + USED_RING + 8 * (size_t)(vq->used_idx & (vq->addr.size - 1));
	store32(elem, head);
	store32(elem + 4, len);
	vq->used_idx++;
	/* §2.7.8.2: len (and the buffer contents) before idx. */
	store16(vq->used + USED_IDX, vq->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_need_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new_idx = vq->used_idx;

	if (!vq->enabled)
		return false;
	/*
	 * Our used idx store before our read of flags / used_event; the driver
	 * orders its used_event store before re-reading used idx. Without this
	 * full barrier both can miss each other's update and the guest sleeps.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new_idx;
	/* §2.7.7.2 */
	if (!vq->event_idx)
		return !(load16(vq->avail + AVAIL_FLAGS, __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	return virtq_need_event(load16(used_event(vq), __ATOMIC_RELAXED), new_idx, old);
}

void virtq_disable_notify(struct virtq *vq)
{
	/* §2.7.10.2: with EVENT_IDX the device MUST keep flags 0. */
	if (vq->enabled && !vq->event_idx)
		store16(vq->used + USED_FLAGS, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->enabled || vq->broken)
		return false;
	/* §2.7.10.2: kick us when the entry at last_avail_idx is made available. */
	if (vq->event_idx)
		store16(avail_event(vq), vq->last_avail_idx, __ATOMIC_RELAXED);
	else
		store16(vq->used + USED_FLAGS, 0, __ATOMIC_RELAXED);
	/* Mirror of §2.7.13.4.1: our store before re-reading avail idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE) != vq->last_avail_idx;
}

const char *virtq_strerror(enum virtq_err err)
{
	static const char *const msg[] = {
		[VIRTQ_OK] = "no error",
		[VIRTQ_E_AVAIL_IDX] = "available idx moved more than the queue size (virtio 1.2 §2.7.13)",
		[VIRTQ_E_INDEX] = "descriptor index beyond the table (§2.7.5)",
		[VIRTQ_E_CHAIN_LONG] = "descriptor chain longer than the queue size, or a loop (§2.7.5.2, §2.7.5.3.1)",
		[VIRTQ_E_SEGS] = "more buffers in a chain than the device allows (§2.7.4.1)",
		[VIRTQ_E_ADDR] = "buffer or indirect table outside guest RAM",
		[VIRTQ_E_LEN] = "descriptor chain longer than 2^32 bytes (§2.7.5.2)",
		[VIRTQ_E_ORDER] = "device-readable buffer after a device-writable one (§2.7.4.2)",
		[VIRTQ_E_INDIRECT_FEATURE] = "indirect descriptor without VIRTIO_F_INDIRECT_DESC (§2.7.5.3.1)",
		[VIRTQ_E_INDIRECT_NESTED] = "indirect descriptor inside an indirect table (§2.7.5.3.1)",
		[VIRTQ_E_INDIRECT_NEXT] = "indirect descriptor with NEXT set (§2.7.5.3.1)",
		[VIRTQ_E_INDIRECT_LEN] = "indirect table length not a non-zero multiple of 16 (§2.7.5.3)",
		[VIRTQ_E_REQUEST] = "request malformed for this device type",
		[VIRTQ_E_SIZE] = "queue size not a power of 2 in [1, 32768] (§2.7)",
		[VIRTQ_E_ALIGN] = "ring part misaligned (§2.7.1: desc 16, avail 2, used 4)",
		[VIRTQ_E_RING_ADDR] = "ring part not wholly in guest RAM",
		[VIRTQ_E_RING_OVERLAP] = "used ring overlaps the descriptor table or the available ring (§2.7)",
	};

	if ((unsigned)err >= ARRAY_SIZE(msg) || !msg[err])
		return "unknown error";
	return msg[err];
}

void virtq_unpop(struct virtq *vq, unsigned n)
{
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
}
