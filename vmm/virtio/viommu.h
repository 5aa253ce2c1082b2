/*
 * sluice: virtio-iommu request processing (virtio 1.2 §5.13), the device's
 * pure half: the domain/endpoint/mapping state machine and the request
 * parser, on flat buffers. The transport (vmm/virtio/viommu_dev.c) copies a
 * request's device-readable bytes in and the answer's bytes out.
 *
 * Model. Endpoints are fixed at creation (the assigned devices; their IDs
 * are the ones the ACPI VIOT table gives them). A domain exists while at
 * least one endpoint is attached to it (ATTACH creates it, the last DETACH
 * frees it and its mappings, as QEMU's virtio-iommu does). A domain's
 * mappings are the guest's; each one is applied to every endpoint of the
 * domain through struct viommu_backend_ops (the VMM: VFIO type1 MAP_DMA and
 * UNMAP_DMA; the tests: a recording backend), so an ATTACH replays the
 * domain's mappings to the new endpoint and a DETACH removes them from it.
 *
 * No bypass: neither VIRTIO_IOMMU_F_BYPASS nor _F_BYPASS_CONFIG is offered,
 * so an endpoint attached to no domain reaches no memory at all (§5.13.6.3:
 * without bypass the device SHOULD NOT let it access guest memory), which is
 * what a VFIO container with nothing mapped gives. A Linux guest that wants
 * an identity domain then maps its RAM 1:1 with MAP requests.
 *
 * Guest-physical ranges of a MAP are checked to lie wholly in guest RAM
 * (guest_mem_ptr) before the backend sees them: a MAP outside RAM is
 * refused with VIRTIO_IOMMU_S_FAULT and nothing is pinned.
 *
 * Threading: one thread at a time (the transport's worker; reset and
 * teardown with the worker parked).
 */
#ifndef SLUICE_VIOMMU_H
#define SLUICE_VIOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_iommu.h>

#include "vmm/memory.h"

#define VIOMMU_MAX_ENDPOINTS	16
#define VIOMMU_MAX_RESV		8
#define VIOMMU_MAX_MAPPINGS	65535	/* VFIO type1's default dma_entry_limit */
#define VIOMMU_PROBE_SIZE	256	/* config probe_size: room for the properties */
/* Largest device-readable part of a request: PROBE's head, endpoint, reserved[64]. */
#define VIOMMU_REQ_MAX		sizeof(struct virtio_iommu_req_probe)

/* Offered on top of the transport's features: no BYPASS, BYPASS_CONFIG or MMIO. */
#define VIOMMU_FEATURES	((1ull << VIRTIO_IOMMU_F_INPUT_RANGE) | \
			 (1ull << VIRTIO_IOMMU_F_DOMAIN_RANGE) | \
			 (1ull << VIRTIO_IOMMU_F_MAP_UNMAP) | \
			 (1ull << VIRTIO_IOMMU_F_PROBE))

/* x86's MSI window (Intel SDM vol. 3 §11.11): the guest must leave it unmapped. */
#define VIOMMU_MSI_START	0xfee00000ull
#define VIOMMU_MSI_END		0xfeefffffull

/*
 * The backend that applies mappings to an endpoint's DMA address space.
 * @ep is the endpoint's index in viommu_params.endpoint. map: 0, -ENOMEM
 * (out of locked memory or mapping slots: S_NOMEM), or another -errno
 * (S_DEVERR). flags are VIRTIO_IOMMU_MAP_F_READ|WRITE.
 */
struct viommu_backend_ops {
	int (*map)(void *opaque, unsigned ep, uint64_t iova, uint64_t size, void *hva, uint32_t flags);
	int (*unmap)(void *opaque, unsigned ep, uint64_t iova, uint64_t size);
};

/* A reserved IOVA region PROBE reports (VIRTIO_IOMMU_RESV_MEM_T_*), inclusive. */
struct viommu_resv {
	uint64_t start, end;
	uint8_t subtype;
};

struct viommu_params {
	uint64_t page_size_mask;	/* its lowest bit is the granule */
	uint64_t input_start, input_end;	/* IOVA range, inclusive */
	uint32_t domain_start, domain_end;	/* domain IDs, inclusive */
	uint32_t endpoint[VIOMMU_MAX_ENDPOINTS];	/* endpoint IDs (VIOT) */
	unsigned nr_endpoints;
	struct viommu_resv resv[VIOMMU_MAX_RESV];	/* reported by PROBE for every endpoint */
	unsigned nr_resv;
};

struct viommu_mapping {
	uint64_t start, end;		/* IOVA, inclusive */
	uint64_t gpa;
	uint32_t flags;
};

struct viommu_domain {
	bool live;			/* has endpoints */
	uint32_t id;
	unsigned nr_eps;
	struct viommu_mapping *map;	/* sorted by start, disjoint */
	size_t nr_maps, cap;
};

struct viommu {
	struct viommu_params p;
	const struct guest_mem *mem;
	const struct viommu_backend_ops *ops;
	void *opaque;
	int ep_dom[VIOMMU_MAX_ENDPOINTS];	/* index into dom[], -1: not attached */
	struct viommu_domain dom[VIOMMU_MAX_ENDPOINTS];	/* a domain needs an endpoint */
	size_t nr_maps;			/* over all domains */
	uint64_t made, removed;		/* mappings made; removed by UNMAP or with their domain */
	uint64_t reset_removed;		/* of those, by the last viommu_reset */
	bool memlock_logged;		/* an S_NOMEM MAP was reported once */
};

/* A device with @p's endpoints, none attached, over guest RAM @mem. 0 or -EINVAL. */
int viommu_init(struct viommu *v, const struct viommu_params *p, const struct guest_mem *mem,
		const struct viommu_backend_ops *ops, void *opaque);
/* Device reset and teardown: every mapping removed from the backend, every endpoint detached. */
void viommu_reset(struct viommu *v);

/*
 * Serve one request: @req, @req_len are the chain's device-readable bytes;
 * @resp, @resp_len its device-writable ones, which this fills entirely
 * (PROBE: properties, then zeros; every request: the tail in the last 4
 * bytes, where Linux reads it). Returns the VIRTIO_IOMMU_S_* status, or
 * -EINVAL when @resp_len has no room for the tail (nothing done: the
 * transport breaks the queue).
 */
int viommu_request(struct viommu *v, const void *req, size_t req_len, void *resp, size_t resp_len);

/* The device configuration (§5.13.4), little-endian, bytes [@off, @off + @len); past it read 0. */
void viommu_config_read(const struct viommu *v, uint32_t off, void *data, uint32_t len);

/* A fault event (§5.13.6.9) for the event queue. */
void viommu_fault_event(struct virtio_iommu_fault *ev, uint8_t reason, uint32_t flags,
			uint32_t endpoint, uint64_t address);

/* The endpoint's index for endpoint ID @id, or -1. */
int viommu_endpoint_index(const struct viommu *v, uint32_t id);

const char *viommu_status_name(int status);

#endif
