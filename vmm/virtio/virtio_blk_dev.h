/*
 * sluice: a virtio-blk device on the virtio-pci transport: the image
 * (vmm/virtio_blk.c) behind a PCI function (vmm/virtio_pci.c), one request
 * queue served by the transport's worker thread.
 *
 * open() takes the host resource (the image, locked) during setup; attach()
 * puts the function on the VM; detach() and close() undo them.
 */
#ifndef SLUICE_VIRTIO_BLK_DEV_H
#define SLUICE_VIRTIO_BLK_DEV_H

#include <limits.h>
#include <stdbool.h>

#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_pci.h"

struct vm;

/* One disk as the user configured it (--disk PATH[,ro]). */
struct virtio_blk_dev_config {
	char path[PATH_MAX];
	bool ro;
};

struct virtio_blk_dev {
	struct virtio_blk blk;
	bool open;
	struct virtio_pci *vp;
};

/* Disk number @index ("disk0 (/path)" in messages). 0 or -errno with a message. */
int virtio_blk_dev_open(struct virtio_blk_dev *d, const struct virtio_blk_dev_config *cfg,
			unsigned index);
void virtio_blk_dev_close(struct virtio_blk_dev *d);

int virtio_blk_dev_attach(struct virtio_blk_dev *d, struct vm *vm);
void virtio_blk_dev_detach(struct virtio_blk_dev *d);

#endif
