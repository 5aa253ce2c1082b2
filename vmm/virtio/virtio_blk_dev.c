/* sluice: virtio-blk on virtio-pci (vmm/virtio_blk_dev.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_ids.h>

#include "vmm/log.h"
#include "vmm/virtio/virtio_blk_dev.h"

static const char *const queue_names[] = { "requestq" };

static void blk_config_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_blk_dev *d = opaque;

	virtio_blk_config_read(&d->blk, off, data, len);
}

/* Worker thread: serve the request queue; a broken one needs a reset (§2.1.2). */
static void blk_queue_notify(void *opaque, unsigned q)
{
	struct virtio_blk_dev *d = opaque;
	bool notify = false;
	int r;

	r = virtio_blk_serve(&d->blk, virtio_pci_vq(d->vp, q), &notify);
	if (notify)
		virtio_pci_notify(d->vp, q);
	/* A full batch: back through epoll, so a reset can park the worker between batches. */
	if (r == VIRTIO_BLK_BUDGET)
		virtio_pci_kick(d->vp, q);
	if (r == -EIO)
		virtio_pci_needs_reset(d->vp);
}

static const struct virtio_pci_ops blk_ops = {
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
};

int virtio_blk_dev_open(struct virtio_blk_dev *d, const struct virtio_blk_dev_config *cfg,
			unsigned index)
{
	char id[16];
	int err;

	memset(d, 0, sizeof(*d));
	snprintf(id, sizeof(id), "disk%u", index);
	err = virtio_blk_open(&d->blk, cfg->path, cfg->ro, id);
	if (err)
		return err;
	d->open = true;
	return 0;
}

void virtio_blk_dev_close(struct virtio_blk_dev *d)
{
	if (d->open)
		virtio_blk_close(&d->blk);
	d->open = false;
}

int virtio_blk_dev_attach(struct virtio_blk_dev *d, struct vm *vm)
{
	const struct virtio_pci_config cfg = {
		.name = d->blk.name,
		.device_type = VIRTIO_ID_BLOCK,
		.class_code = 0x010000,		/* mass storage, as QEMU's virtio-blk */
		.features = d->blk.features | VIRTIO_PCI_FEATURES,
		.nr_queues = 1,
		.queue_size = VIRTIO_BLK_QUEUE_SIZE,
		.queue_names = queue_names,
		.config_size = sizeof(d->blk.config),
		.ops = &blk_ops,
		.dev = d,
	};

	return virtio_pci_create(&d->vp, vm, &cfg);
}

void virtio_blk_dev_detach(struct virtio_blk_dev *d)
{
	virtio_pci_destroy(d->vp);
	d->vp = NULL;
}
