/* sluice: virtio-iommu on virtio-pci (vmm/virtio/viommu_dev.h). */
#include <errno.h>
#include <string.h>
#include <linux/virtio_ids.h>

#include "vmm/log.h"
#include "vmm/virtio/iov.h"
#include "vmm/virtio/viommu_dev.h"
#include "vmm/vm.h"

#define REQUESTQ	0
#define QUEUE_SIZE	256
#define BUDGET		64	/* requests per worker pass, as virtio-blk */
#define SEG_MAX		16	/* a request is 2 to 4 buffers in practice */
#define RESP_MAX	(VIOMMU_PROBE_SIZE + sizeof(struct virtio_iommu_req_tail))

static const char *const queue_names[] = { "requestq", "eventq" };

static void config_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct viommu_dev *d = opaque;

	viommu_config_read(&d->v, off, data, len);
}

/* Copy @len bytes of @buf into @iov starting @skip bytes in. */
static void iov_from_buf_at(const struct iovec *iov, unsigned cnt, size_t skip, const void *buf,
			    size_t len)
{
	for (; cnt && skip >= iov->iov_len; iov++, cnt--)
		skip -= iov->iov_len;
	if (!cnt)
		return;
	if (skip) {
		struct iovec first = { (uint8_t *)iov->iov_base + skip, iov->iov_len - skip };
		size_t k = iov_from_buf(&first, 1, buf, len);

		buf = (const uint8_t *)buf + k;
		len -= k;
		iov++;
		cnt--;
	}
	iov_from_buf(iov, cnt, buf, len);
}

/*
 * One request: its readable bytes into a flat buffer, the answer (at most
 * probe_size + tail) into the last bytes of its writable part, where the
 * driver reads the tail. 0, -EAGAIN (ring empty) or -EIO (queue broken).
 */
static int serve_one(struct viommu_dev *d, struct virtq *vq)
{
	struct iovec iov[SEG_MAX];
	struct virtq_chain c = { .iov = iov, .iov_max = SEG_MAX };
	uint8_t req[VIOMMU_REQ_MAX], resp[RESP_MAX];
	size_t req_len, resp_len;
	enum virtq_err why;
	int r;

	r = virtq_pop(vq, &c, &why);
	if (r == -EINVAL) {
		pr_err_rl("virtio-iommu: %s: %s; queue stopped until the driver resets the device",
			  vq->name, virtq_strerror(why));
		return -EIO;
	}
	if (r)
		return r;
	req_len = iov_to_buf(c.iov, c.nr_out, req, sizeof(req));
	resp_len = c.in_len < sizeof(resp) ? c.in_len : sizeof(resp);
	if (viommu_request(&d->v, req, c.out_len < req_len ? c.out_len : req_len, resp, resp_len) < 0) {
		pr_err_rl("virtio-iommu: %s: request with %u device-writable bytes has no room for "
			  "its 4-byte tail (virtio 1.2 §5.13.6.1); queue stopped until the driver "
			  "resets the device", vq->name, c.in_len);
		virtq_set_broken(vq, VIRTQ_E_REQUEST);
		return -EIO;
	}
	iov_from_buf_at(c.iov + c.nr_out, c.nr_in, c.in_len - resp_len, resp, resp_len);
	return virtq_push(vq, c.head, c.in_len);
}

/* Worker: serve the request queue; the event queue's buffers wait for faults (none today). */
static void queue_notify(void *opaque, unsigned q)
{
	struct viommu_dev *d = opaque;
	struct virtq *vq = virtio_pci_vq(d->vp, q);
	int served = 0, err = -EAGAIN;

	if (q != REQUESTQ)
		return;
	do {
		virtq_disable_notify(vq);
		while (served < BUDGET && !(err = serve_one(d, vq)))
			served++;
		if (served == BUDGET)
			break;
	} while (err == -EAGAIN && virtq_enable_notify(vq));
	if (served && virtq_need_notify(vq))
		virtio_pci_notify(d->vp, q);
	if (served == BUDGET)
		virtio_pci_kick(d->vp, q);
	else if (err == -EIO)
		virtio_pci_needs_reset(d->vp);
}

/* Device reset (§5.13.5: endpoints detached, mappings gone): nothing stays mapped. */
static void dev_reset(void *opaque)
{
	struct viommu_dev *d = opaque;

	viommu_reset(&d->v);
}

static const struct virtio_pci_ops viommu_ops = {
	.config_read = config_read,
	.reset = dev_reset,
	.queue_notify = queue_notify,
};

/* Linux's driver needs MAP_UNMAP (drivers/iommu/virtio-iommu.c, viommu_probe). */
static bool features_ok(uint64_t features)
{
	return features & (1ull << VIRTIO_IOMMU_F_MAP_UNMAP);
}

int viommu_dev_attach(struct viommu_dev *d, struct vm *vm, const struct viommu_params *p,
		      const struct viommu_backend_ops *ops, void *opaque)
{
	const struct virtio_pci_config cfg = {
		.name = "virtio-iommu",
		.device_type = VIRTIO_ID_IOMMU,
		.class_code = 0x088000,		/* system peripheral, other (as QEMU's) */
		.features = VIOMMU_FEATURES | VIRTIO_PCI_FEATURES,
		.nr_queues = 2,
		.queue_size = QUEUE_SIZE,
		.queue_names = queue_names,
		.config_size = sizeof(struct virtio_iommu_config),
		.features_ok = features_ok,
		.ops = &viommu_ops,
		.dev = d,
	};
	int err;

	memset(d, 0, sizeof(*d));
	err = viommu_init(&d->v, p, &vm->mem, ops, opaque);
	if (err) {
		pr_err("%s: virtio-iommu: bad parameters (%u endpoints)", vm->name, p->nr_endpoints);
		return err;
	}
	return virtio_pci_create(&d->vp, vm, &cfg);
}

void viommu_dev_detach(struct viommu_dev *d)
{
	const char *vm_name;

	if (!d->vp)
		return;
	vm_name = d->vp->vm->name;
	d->v.reset_removed = 0;		/* a guest's own reset before is not teardown's (vCPUs stopped) */
	/* With the worker parked, ops->reset (viommu_reset) removes what the guest left. */
	virtio_pci_destroy(d->vp);
	d->vp = NULL;
	if (d->v.nr_maps)
		viommu_reset(&d->v);	/* never started: nothing can be mapped, but be sure */
	/* The test bed reads this line: what the guest did, and what teardown removed. */
	pr_info("%s: virtio-iommu: the guest made %llu mappings and removed %llu (UNMAP, or with "
		"their domain); %llu removed at teardown", vm_name, (unsigned long long)d->v.made,
		(unsigned long long)(d->v.removed - d->v.reset_removed),
		(unsigned long long)d->v.reset_removed);
}

uint16_t viommu_dev_bdf(const struct viommu_dev *d)
{
	return (uint16_t)(d->vp->pci.slot << 3);
}
