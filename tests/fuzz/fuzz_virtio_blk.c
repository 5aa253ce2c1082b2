/*
 * Fuzz target: split virtqueue chains (vmm/virtio/virtqueue.c) and the
 * virtio-blk requests they carry (vmm/virtio/virtio_blk.c), over guest RAM
 * the input fills, against a 32 KiB image in a memfd.
 *
 * Input: features, queue size and ring addresses; a list of operations (serve
 * the queue as the worker does, change a byte of RAM as a racing driver
 * would, reset and enable the queue again); then the RAM image itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fz.h"
#include "vmm/virtio/virtio_blk.h"

#define RAM_SIZE	(64 * 1024)
#define IMG_SIZE	(64 * 512)
#define MAX_OPS		32

struct disk {
	int memfd;
	struct virtio_blk blk;
};

static struct disk rw, ro;

static void disk_open(struct disk *d, bool readonly)
{
	char path[64];

	d->memfd = memfd_create(readonly ? "fuzz-blk-ro" : "fuzz-blk", MFD_CLOEXEC);
	fz_assert(d->memfd >= 0 && !ftruncate(d->memfd, IMG_SIZE), "memfd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->memfd);
	fz_assert(!virtio_blk_open(&d->blk, path, readonly, "fuzzdisk"), "virtio_blk_open");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	disk_open(&rw, false);
	disk_open(&ro, true);
	return 0;
}

/* Every input starts from a zeroed image: what a read brings into RAM is the input's doing. */
static void disk_reset(struct disk *d)
{
	fz_assert(!ftruncate(d->memfd, 0) && !ftruncate(d->memfd, IMG_SIZE), "truncate");
	d->blk.io_err_logged = false;
}

static void enable(struct virtq *vq, const struct guest_mem *mem, const struct virtq_addr *a,
		   uint64_t features)
{
	virtq_init(vq, "requestq");
	virtq_enable(vq, mem, a, features);
}

static void serve(struct virtio_blk *blk, struct virtq *vq)
{
	bool notify = false;
	int r = virtio_blk_serve(blk, vq, &notify);

	fz_assert(r >= 0 || r == -EIO, "virtio_blk_serve returned %d", r);
	fz_assert(r != -EIO || vq->broken || !vq->enabled, "-EIO with the queue still up");
	/* The last thing a served request does is publish used->idx (§2.7.8.2). */
	if (r > 0) {
		uint16_t used = (uint16_t)(vq->used[2] | vq->used[3] << 8);

		fz_assert(used == vq->used_idx, "used idx %u, device's copy %u", used, vq->used_idx);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t flags = fz_u8(&f), ops[MAX_OPS][4];
	uint64_t features = 0;
	struct virtq_addr a;
	struct guest_mem mem;
	struct disk *d = flags & 4 ? &ro : &rw;
	unsigned nops, i;
	struct virtq vq;
	uint8_t *ram;

	if (flags & 1)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (flags & 2)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	a.size = (uint16_t)(1u << (fz_u8(&f) % 9));	/* 1 .. 256, the transport's maximum */
	a.desc = fz_u16(&f) % RAM_SIZE;
	a.avail = fz_u16(&f) % RAM_SIZE;
	a.used = fz_u16(&f) % RAM_SIZE;
	nops = fz_u8(&f) % (MAX_OPS + 1);
	for (i = 0; i < nops; i++)
		fz_bytes(&f, ops[i], 4);

	ram = malloc(RAM_SIZE);
	fz_assert(ram, "ram");
	fz_bytes(&f, ram, RAM_SIZE);
	guest_mem_layout(&mem, ram, RAM_SIZE);
	mem.fd = -1;
	disk_reset(d);

	enable(&vq, &mem, &a, features);
	serve(&d->blk, &vq);
	for (i = 0; i < nops; i++) {
		switch (ops[i][0] % 4) {
		case 0:
			serve(&d->blk, &vq);
			break;
		case 1:	/* the driver writes RAM behind the device's back */
			ram[(ops[i][1] | ops[i][2] << 8) % RAM_SIZE] = ops[i][3];
			break;
		case 2:	/* the avail index moves on by up to 255 */
			if (vq.enabled)
				vq.avail[2] = (uint8_t)(vq.avail[2] + ops[i][1]);
			break;
		default: /* reset, then enable again as the driver programmed it */
			enable(&vq, &mem, &a, features);
			break;
		}
	}
	free(ram);
	return 0;
}
