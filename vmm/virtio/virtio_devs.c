/* sluice: --disk and --net devices of a VM (vmm/virtio_devs.h). */
#include <string.h>

#include "vmm/virtio/virtio_devs.h"

int virtio_devs_open(struct virtio_devs *d, const struct run_opts *o)
{
	int err;

	memset(d, 0, sizeof(*d));
	for (; d->nr_disks < o->nr_disks; d->nr_disks++) {
		const struct run_disk *rd = &o->disk[d->nr_disks];

		err = virtio_blk_dev_open(&d->disk[d->nr_disks], rd->path, rd->ro, d->nr_disks);
		if (err)
			goto err_close;
	}
	for (; d->nr_nets < o->nr_nets; d->nr_nets++) {
		err = virtio_net_dev_open(&d->net[d->nr_nets], &o->net[d->nr_nets], d->nr_nets);
		if (err)
			goto err_close;
	}
	return 0;

err_close:
	virtio_devs_close(d);
	return err;
}

void virtio_devs_close(struct virtio_devs *d)
{
	while (d->nr_nets)
		virtio_net_dev_close(&d->net[--d->nr_nets]);
	while (d->nr_disks)
		virtio_blk_dev_close(&d->disk[--d->nr_disks]);
}

int virtio_devs_attach(struct virtio_devs *d, struct vm *vm)
{
	int err;

	for (; d->disks_attached < d->nr_disks; d->disks_attached++) {
		err = virtio_blk_dev_attach(&d->disk[d->disks_attached], vm);
		if (err)
			goto err_detach;
	}
	for (; d->nets_attached < d->nr_nets; d->nets_attached++) {
		err = virtio_net_dev_attach(&d->net[d->nets_attached], vm);
		if (err)
			goto err_detach;
	}
	return 0;

err_detach:
	virtio_devs_detach(d);
	return err;
}

void virtio_devs_detach(struct virtio_devs *d)
{
	while (d->nets_attached)
		virtio_net_dev_detach(&d->net[--d->nets_attached]);
	while (d->disks_attached)
		virtio_blk_dev_detach(&d->disk[--d->disks_attached]);
}
