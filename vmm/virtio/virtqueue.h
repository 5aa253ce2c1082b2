/*
 * sluice: split virtqueues, device side (virtio 1.2 §2.7). Pure logic over
 * guest RAM: every ring, descriptor table and buffer address the driver
 * hands us goes through guest_mem_ptr(), so a hostile driver can at worst
 * stop its own queue, never make sluice touch memory outside guest RAM.
 *
 * Threading: one thread at a time processes a queue (pop, push, the
 * notification helpers). virtq_enable() and virtq_reset() run while no
 * thread processes it (the transport stops the queue's worker first). The
 * driver runs concurrently on vCPUs: ring indexes are read and written with
 * __atomic builtins and the barriers of §2.7.13 (driver) and §2.7.7/§2.7.10
 * (notification suppression).
 *
 * A refused chain (enum virtq_err) marks the queue broken: pop then returns
 * -EIO until the driver resets the device. Those are all driver MUST NOTs
 * (§2.7.4.2, §2.7.5.2, §2.7.5.3.1); the transport sets DEVICE_NEEDS_RESET
 * and sends a configuration change notification (§2.1.2).
 */
#ifndef SLUICE_VIRTQUEUE_H
#define SLUICE_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>	/* VRING_DESC_F_*, VIRTIO_RING_F_* (spec: VIRTQ_*) */

#include "vmm/memory.h"

#define VIRTQ_MAX_SIZE		32768	/* §2.7: a power of 2, at most 32768 */

/* Ring features this module implements; the transport offers them. */
#define VIRTQ_FEATURES	((1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX))

/* Why a chain was refused; virtq_strerror() gives the text for a message. */
enum virtq_err {
	VIRTQ_OK,
	VIRTQ_E_AVAIL_IDX,	/* avail idx moved more than the queue size */
	VIRTQ_E_INDEX,		/* head or next >= table size */
	VIRTQ_E_CHAIN_LONG,	/* more buffers than the queue size, or a loop */
	VIRTQ_E_SEGS,		/* more buffers than the caller's iovec array */
	VIRTQ_E_ADDR,		/* buffer or indirect table not wholly in RAM */
	VIRTQ_E_LEN,		/* chain longer than 2^32 - 1 bytes */
	VIRTQ_E_ORDER,		/* device-readable buffer after a device-writable one */
	VIRTQ_E_INDIRECT_FEATURE, /* INDIRECT without VIRTIO_F_INDIRECT_DESC */
	VIRTQ_E_INDIRECT_NESTED, /* INDIRECT inside an indirect table */
	VIRTQ_E_INDIRECT_NEXT,	/* INDIRECT together with NEXT */
	VIRTQ_E_INDIRECT_LEN,	/* indirect table length 0 or not a multiple of 16 */
	VIRTQ_E_REQUEST,	/* the device could not parse the request (virtq_set_broken) */
	/* virtq_enable() refusals */
	VIRTQ_E_SIZE,		/* queue size 0, not a power of 2, or > 32768 */
	VIRTQ_E_ALIGN,		/* a ring part misaligned */
	VIRTQ_E_RING_ADDR,	/* a ring part not wholly in RAM */
	VIRTQ_E_RING_OVERLAP,	/* the used ring overlaps the descriptor table or avail ring */
};

/* What the driver programmed through the transport. */
struct virtq_addr {
	uint16_t size;		/* queue size */
	uint64_t desc;		/* descriptor area: descriptor table */
	uint64_t avail;		/* driver area: available ring */
	uint64_t used;		/* device area: used ring */
};

struct virtq {
	const char *name;	/* for messages: "requestq" */
	const struct guest_mem *mem;
	struct virtq_addr addr;
	uint8_t *desc, *avail, *used;	/* host pointers, set by virtq_enable() */
	uint16_t last_avail_idx;	/* next avail ring entry to pop */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last virtq_need_notify() */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool enabled;
	bool broken;			/* refused a chain: reset needed */
	enum virtq_err err;		/* why it broke, or why enable failed */
};

/*
 * One popped chain: device-readable buffers iov[0, nr_out), then
 * device-writable ones iov[nr_out, nr_out + nr_in) (§2.7.4.2 fixes that
 * order, so no per-segment flag is needed). The caller provides iov and
 * iov_max; the device may trim iov entries in place while serving.
 */
struct virtq_chain {
	struct iovec *iov;
	unsigned iov_max;
	unsigned nr_out, nr_in;
	uint32_t out_len, in_len;	/* bytes, readable and writable */
	uint16_t head;			/* for virtq_push() */
};

/* A disabled queue named @name (which must outlive it). */
void virtq_init(struct virtq *vq, const char *name);

/*
 * Check and enable what the driver programmed: size a power of 2 in
 * [1, 32768], each part aligned (§2.7: desc 16, avail 2, used 4) and wholly
 * in RAM with its event trailer (§2.7: 16*N, 6+2*N, 6+8*N bytes), and the
 * used ring (the one part the device writes) clear of the other two.
 * @features are the negotiated ones (VIRTQ_FEATURES bits are used).
 * Indexes start at 0. 0, or -EINVAL: the queue stays disabled and vq->err
 * says why.
 */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem,
		 const struct virtq_addr *addr, uint64_t features);

/* Back to the virtq_init() state (device reset, queue reset). */
void virtq_reset(struct virtq *vq);

/*
 * Pop the next available chain into @c (c->iov, c->iov_max set by the
 * caller). Reads only. 0; -EAGAIN when the ring is empty; -EINVAL when the
 * chain is refused (*why says why; the queue is now broken); -EIO when the
 * queue is disabled or broken.
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c, enum virtq_err *why);

/*
 * Return chain @head with @len bytes written into its device-writable
 * buffers (§2.7.8): the used element, then (release) used->idx. 0 or -EINVAL.
 */
int virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/*
 * Give back the last @n chains virtq_pop returned and that were neither
 * pushed nor written: the next pops return them again. Only the device's
 * own index moves; the rings are untouched.
 */
void virtq_unpop(struct virtq *vq, unsigned n);

/* Stop the queue after a device-level error in a request (as a refused chain). */
void virtq_set_broken(struct virtq *vq, enum virtq_err err);

/*
 * After pushing: does the driver want a used buffer notification (§2.7.7.2)?
 * With EVENT_IDX, whether used_event lies in the pushes since the last call;
 * without, whether VRING_AVAIL_F_NO_INTERRUPT is clear.
 */
bool virtq_need_notify(struct virtq *vq);

/*
 * Available buffer notifications (§2.7.10.2): disable while draining the
 * ring (VRING_USED_F_NO_NOTIFY; nothing with EVENT_IDX), enable before
 * sleeping (flags 0, or avail_event = last_avail_idx with EVENT_IDX).
 * virtq_enable_notify() returns true if buffers arrived meanwhile: drain
 * again rather than sleep, or a kick may be lost.
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);

const char *virtq_strerror(enum virtq_err err);

/*
 * §2.7.7.2 and the spec's virtio_queue.h: notify when @event_idx is among
 * the entries written since @old, i.e. in [old, new_idx), modulo 2^16.
 */
static inline bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

#endif
