/*
 * sluice: virtio-blk request processing (virtio 1.2 §5.2), over a file
 * descriptor. No transport here: the virtio-pci side exposes
 * virtio_blk.features and the config bytes, owns the request queue (one:
 * no VIRTIO_BLK_F_MQ) and calls virtio_blk_serve() when the driver kicks it.
 *
 * Threading: virtio_blk_serve() for a disk runs on one thread at a time
 * (it owns the queue, see vmm/virtqueue.h); open/close around it.
 */
#ifndef SLUICE_VIRTIO_BLK_H
#define SLUICE_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_blk.h>	/* VIRTIO_BLK_F_*, _T_*, _S_*, struct virtio_blk_config */

#include "vmm/virtio/virtqueue.h"

#define VIRTIO_BLK_SECTOR_SIZE	512
#define VIRTIO_BLK_QUEUE_SIZE	256	/* the transport's maximum queue size */
/* Data segments per request (§5.2.4): the queue size less header and status. */
/* Requests one virtio_blk_serve() call serves at most (the worker then yields). */
#define VIRTIO_BLK_BUDGET	64
#define VIRTIO_BLK_SEG_MAX	(VIRTIO_BLK_QUEUE_SIZE - 2)

struct virtio_blk {
	int fd;
	bool ro;
	bool io_err_logged;		/* a host I/O error was reported once */
	uint64_t capacity;		/* in 512-byte sectors */
	uint64_t features;		/* device features offered (transport adds its own) */
	struct virtio_blk_config config; /* little-endian, as the driver reads it (§5.2.4) */
	char serial[VIRTIO_BLK_ID_BYTES]; /* GET_ID: NUL-padded, unterminated at 20 */
	char *path;
	char *name;			/* for messages: "disk0 (/path/img)" */
};

/*
 * Open the image at @path: read-write, or read-only with @ro. Its size must
 * be a multiple of 512. An flock (LOCK_EX read-write, LOCK_SH read-only,
 * non-blocking) refuses an image another sluice uses read-write. Messages
 * name the disk "@id (path)" (@id NULL: "disk") and say what to do; @id is
 * also what GET_ID reports. 0 or -errno; nothing to undo on error.
 */
int virtio_blk_open(struct virtio_blk *blk, const char *path, bool ro, const char *id);
void virtio_blk_close(struct virtio_blk *blk);

/* Name the disk "@id (path)" in messages and report @id (first 20 bytes) to GET_ID. */
int virtio_blk_set_id(struct virtio_blk *blk, const char *id);

/* Config space bytes [@offset, @offset + @len); bytes past the struct read 0. */
void virtio_blk_config_read(const struct virtio_blk *blk, uint32_t offset, void *data, uint32_t len);

/*
 * Serve one chain from virtq_pop() (§5.2.6): the 16-byte header from the
 * first device-readable bytes, the status in the last device-writable
 * byte, data in between. Returns the VIRTIO_BLK_S_* status written, with
 * *used_len = bytes written into the driver's buffers (data + status), or
 * -EINVAL without touching anything when there is no room for the header
 * or the status byte. Trims c->iov in place.
 */
int virtio_blk_process(struct virtio_blk *blk, struct virtq_chain *c, uint32_t *used_len);

/*
 * Serve the available requests on @vq, at most VIRTIO_BLK_BUDGET, with
 * available buffer notifications off meanwhile. Returns the number served
 * (VIRTIO_BLK_BUDGET: there may be more; the caller comes back after
 * yielding) and sets *notify when the driver wants a used buffer
 * notification; or -EIO when the queue is or became broken (already
 * logged): the transport sets DEVICE_NEEDS_RESET (§2.1.2).
 */
int virtio_blk_serve(struct virtio_blk *blk, struct virtq *vq, bool *notify);

#endif
