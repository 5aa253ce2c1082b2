/*
 * sluice: the paravirtual devices of `sluice run` (--disk, --net): host
 * resources opened from the options before the VM exists (images, TAPs,
 * /dev/vhost-net), PCI functions added once it does. Teardown mirrors both.
 */
#ifndef SLUICE_VIRTIO_DEVS_H
#define SLUICE_VIRTIO_DEVS_H

#include "vmm/cli/run.h"
#include "vmm/virtio/virtio_blk_dev.h"
#include "vmm/virtio/virtio_net.h"

struct vm;

struct virtio_devs {
	unsigned nr_disks, nr_nets;		/* opened */
	unsigned disks_attached, nets_attached;
	struct virtio_blk_dev disk[RUN_MAX_DISKS];
	struct virtio_net_dev net[RUN_MAX_NETS];
};

/* Open everything @o names. 0, or -errno with a message and nothing left open. */
int virtio_devs_open(struct virtio_devs *d, const struct run_opts *o);
void virtio_devs_close(struct virtio_devs *d);

/* Put the devices on @vm's PCI host: disks, then NICs. 0 or -errno; on error none stays. */
int virtio_devs_attach(struct virtio_devs *d, struct vm *vm);
/* The vCPUs must be stopped. */
void virtio_devs_detach(struct virtio_devs *d);

#endif
