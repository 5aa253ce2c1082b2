/*
 * cmocka: virtio-iommu requests and the domain/endpoint/mapping state
 * (virtio 1.2 §5.13.6) on plain buffers. The backend is a recording one: it
 * is the seam the VMM fills with VFIO type1 MAP_DMA/UNMAP_DMA (tested for
 * real in the bed, scenario viommu), here it only lists what was asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtio/viommu.h"

#define RAM_SIZE	(1u << 20)
#define EP_A		0x08	/* endpoint IDs: guest BDFs 00:01.0, 00:02.0 */
#define EP_B		0x10
#define G		0x1000ull

struct op {
	bool map;
	unsigned ep;
	uint64_t iova, size, gpa;
	uint32_t flags;
};

struct fx {
	uint8_t *ram;
	struct guest_mem mem;
	struct viommu v;
	struct op ops[64];
	unsigned nr_ops;
	int fail_at;		/* the backend call (index in ops) that fails, -1: none */
	int fail_err;
};

static int rec(struct fx *f, bool map, unsigned ep, uint64_t iova, uint64_t size, void *hva,
	       uint32_t flags)
{
	struct op *o = &f->ops[f->nr_ops];

	assert_true(f->nr_ops < sizeof(f->ops) / sizeof(f->ops[0]));
	*o = (struct op){ .map = map, .ep = ep, .iova = iova, .size = size, .flags = flags,
			  .gpa = hva ? (uint64_t)((uint8_t *)hva - f->ram) : ~0ull };
	if ((int)f->nr_ops++ == f->fail_at)
		return f->fail_err;
	return 0;
}

static int rec_map(void *opaque, unsigned ep, uint64_t iova, uint64_t size, void *hva, uint32_t flags)
{
	assert_non_null(hva);
	return rec(opaque, true, ep, iova, size, hva, flags);
}

static int rec_unmap(void *opaque, unsigned ep, uint64_t iova, uint64_t size)
{
	return rec(opaque, false, ep, iova, size, NULL, 0);
}

static const struct viommu_backend_ops rec_ops = { .map = rec_map, .unmap = rec_unmap };

static const struct viommu_params params = {
	.page_size_mask = ~(G - 1),
	.input_start = 0, .input_end = (1ull << 39) - 1,
	.domain_start = 1, .domain_end = 31,
	.endpoint = { EP_A, EP_B }, .nr_endpoints = 2,
	.resv = { { VIOMMU_MSI_START, VIOMMU_MSI_END, VIRTIO_IOMMU_RESV_MEM_T_MSI } },
	.nr_resv = 1,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = calloc(1, RAM_SIZE);
	assert_non_null(f->ram);
	f->mem.fd = -1;
	guest_mem_layout(&f->mem, f->ram, RAM_SIZE);
	assert_int_equal(viommu_init(&f->v, &params, &f->mem, &rec_ops, f), 0);
	f->fail_at = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	viommu_reset(&f->v);
	free(f->ram);
	free(f);
	return 0;
}

/* ---- request builders: the device-readable part, as Linux sends it ---- */

static int send(struct fx *f, const void *req, size_t len)
{
	uint8_t tail[4] = { 0xee, 0xee, 0xee, 0xee };
	int st = viommu_request(&f->v, req, len, tail, sizeof(tail));

	assert_true(st >= 0);
	assert_int_equal(tail[0], st);
	assert_int_equal(tail[1] | tail[2] | tail[3], 0);
	return st;
}

static int attach(struct fx *f, uint32_t domain, uint32_t ep)
{
	struct virtio_iommu_req_attach r = {
		.head.type = VIRTIO_IOMMU_T_ATTACH,
		.domain = htole32(domain), .endpoint = htole32(ep),
	};

	return send(f, &r, sizeof(r) - 4);
}

static int detach(struct fx *f, uint32_t domain, uint32_t ep)
{
	struct virtio_iommu_req_detach r = {
		.head.type = VIRTIO_IOMMU_T_DETACH,
		.domain = htole32(domain), .endpoint = htole32(ep),
	};

	return send(f, &r, sizeof(r) - 4);
}

static struct virtio_iommu_req_map map_req(uint32_t domain, uint64_t start, uint64_t end,
					   uint64_t gpa, uint32_t flags)
{
	struct virtio_iommu_req_map r = {
		.head.type = VIRTIO_IOMMU_T_MAP, .domain = htole32(domain),
		.virt_start = htole64(start), .virt_end = htole64(end),
		.phys_start = htole64(gpa), .flags = htole32(flags),
	};

	return r;
}

#define RW_F	(VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE)

static int map(struct fx *f, uint32_t domain, uint64_t start, uint64_t end, uint64_t gpa)
{
	struct virtio_iommu_req_map r = map_req(domain, start, end, gpa, RW_F);

	return send(f, &r, sizeof(r) - 4);
}

static int map_flags(struct fx *f, uint32_t flags)
{
	struct virtio_iommu_req_map r = map_req(1, 0x10000, 0x10fff, 0x2000, flags);

	return send(f, &r, sizeof(r) - 4);
}

static int unmap(struct fx *f, uint32_t domain, uint64_t start, uint64_t end)
{
	struct virtio_iommu_req_unmap r = {
		.head.type = VIRTIO_IOMMU_T_UNMAP, .domain = htole32(domain),
		.virt_start = htole64(start), .virt_end = htole64(end),
	};

	return send(f, &r, sizeof(r) - 4);
}

static void assert_op(const struct fx *f, unsigned i, bool is_map, unsigned ep, uint64_t iova,
		      uint64_t size)
{
	assert_true(i < f->nr_ops);
	assert_int_equal(f->ops[i].map, is_map);
	assert_int_equal(f->ops[i].ep, ep);
	assert_int_equal(f->ops[i].iova, iova);
	assert_int_equal(f->ops[i].size, size);
}

/* ---- ATTACH / DETACH ---- */

static void attach_checks(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_attach r = {
		.head.type = VIRTIO_IOMMU_T_ATTACH, .domain = htole32(1), .endpoint = htole32(EP_A),
	};

	assert_int_equal(attach(f, 0, EP_A), VIRTIO_IOMMU_S_RANGE);	/* below domain_start */
	assert_int_equal(attach(f, 32, EP_A), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(attach(f, 1, 0x18), VIRTIO_IOMMU_S_NOENT);	/* not in the VIOT */
	r.flags = htole32(VIRTIO_IOMMU_ATTACH_F_BYPASS);		/* BYPASS_CONFIG not offered */
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_INVAL);
	r.flags = 0;
	r.reserved[3] = 1;
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_INVAL);
	/* None of those attached anything: MAP finds no domain. */
	assert_int_equal(map(f, 1, 0, G - 1, 0), VIRTIO_IOMMU_S_NOENT);
	r.reserved[3] = 0;
	r.head.reserved[0] = 0xff;	/* the head's reserved bytes are ignored */
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_OK);
	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);	/* again: no change */
	assert_int_equal(map(f, 1, 0, G - 1, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 1);
}

static void detach_checks(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_detach r = {
		.head.type = VIRTIO_IOMMU_T_DETACH, .domain = htole32(1), .endpoint = htole32(EP_A),
	};

	assert_int_equal(detach(f, 1, EP_A), VIRTIO_IOMMU_S_NOENT);	/* no such domain */
	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(attach(f, 2, EP_B), VIRTIO_IOMMU_S_OK);
	assert_int_equal(detach(f, 40, EP_A), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(detach(f, 1, 0x18), VIRTIO_IOMMU_S_NOENT);
	assert_int_equal(detach(f, 1, EP_B), VIRTIO_IOMMU_S_INVAL);	/* EP_B is in domain 2 */
	r.reserved[7] = 1;
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(map(f, 1, 0, G - 1, 0), VIRTIO_IOMMU_S_OK);	/* still attached */
	assert_int_equal(detach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	/* Its mapping left the endpoint, and the empty domain went with it. */
	assert_int_equal(f->nr_ops, 2);
	assert_op(f, 1, false, 0, 0, G);
	assert_int_equal(map(f, 1, 0, G - 1, 0), VIRTIO_IOMMU_S_NOENT);
	assert_int_equal(f->v.nr_maps, 0);
}

/* ATTACH of an attached endpoint to another domain: DETACH first, then ATTACH (§5.13.6.3). */
static void attach_moves_endpoint(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(attach(f, 2, EP_B), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x10000, 0x11fff, 0x4000), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 2, 0x20000, 0x20fff, 0x8000), VIRTIO_IOMMU_S_OK);
	f->nr_ops = 0;
	assert_int_equal(attach(f, 2, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 2);
	assert_op(f, 0, false, 0, 0x10000, 2 * G);	/* domain 1's mapping off EP_A */
	assert_op(f, 1, true, 0, 0x20000, G);		/* domain 2's replayed onto it */
	assert_int_equal(f->ops[1].gpa, 0x8000);
	assert_int_equal(map(f, 1, 0, G - 1, 0), VIRTIO_IOMMU_S_NOENT);	/* domain 1 is gone */
	assert_int_equal(f->v.nr_maps, 1);
}

/* A replay the backend refuses leaves the endpoint detached and the domain's mappings as they were. */
static void attach_replay_failure_rolls_back(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x20000, 0x20fff, 0), VIRTIO_IOMMU_S_OK);
	f->nr_ops = 0;
	f->fail_at = 1;
	f->fail_err = -ENOMEM;
	assert_int_equal(attach(f, 1, EP_B), VIRTIO_IOMMU_S_NOMEM);
	assert_int_equal(f->nr_ops, 3);
	assert_op(f, 0, true, 1, 0x10000, G);
	assert_op(f, 1, true, 1, 0x20000, G);
	assert_op(f, 2, false, 1, 0x10000, G);
	assert_int_equal(detach(f, 1, EP_B), VIRTIO_IOMMU_S_INVAL);	/* not attached */
	f->fail_at = -1;
	f->nr_ops = 0;
	assert_int_equal(map(f, 1, 0x30000, 0x30fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 1);		/* only EP_A */
	assert_int_equal(f->v.nr_maps, 3);
}

/* ---- MAP ---- */

static void map_reaches_backend(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_map r = map_req(1, 0x7f00000000ull, 0x7f00003fffull, 0x40000,
						VIRTIO_IOMMU_MAP_F_READ);

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(attach(f, 1, EP_B), VIRTIO_IOMMU_S_OK);
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 2);			/* one per endpoint of the domain */
	assert_op(f, 0, true, 0, 0x7f00000000ull, 4 * G);
	assert_op(f, 1, true, 1, 0x7f00000000ull, 4 * G);
	assert_int_equal(f->ops[0].gpa, 0x40000);	/* the host address of that guest page */
	assert_int_equal(f->ops[0].flags, VIRTIO_IOMMU_MAP_F_READ);
}

static void map_checks(void **state)
{
	struct fx *f = *state;

	assert_int_equal(map(f, 1, 0, G - 1, 0), VIRTIO_IOMMU_S_NOENT);
	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	/* Alignment to the granule (page_size_mask's lowest bit): start, phys, end + 1. */
	assert_int_equal(map(f, 1, 0x800, 0x17ff, 0), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(map(f, 1, 0, G - 1, 0x800), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(map(f, 1, 0, G - 2, 0), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(map(f, 1, G, G - 1, 0), VIRTIO_IOMMU_S_INVAL);	/* end before start */
	assert_int_equal(map(f, 1, 1ull << 39, (1ull << 39) + G - 1, 0), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(map(f, 1, 0, ~0ull, 0), VIRTIO_IOMMU_S_RANGE);
	/* Guest-physical range not wholly in RAM: refused, the backend never asked to pin it. */
	assert_int_equal(map(f, 1, 0, G - 1, RAM_SIZE), VIRTIO_IOMMU_S_FAULT);
	assert_int_equal(map(f, 1, 0, 2 * G - 1, RAM_SIZE - G), VIRTIO_IOMMU_S_FAULT);
	assert_int_equal(map(f, 1, 0, G - 1, VIOMMU_MSI_START), VIRTIO_IOMMU_S_FAULT);
	/* Flags: unknown bits INVAL; MMIO and "neither read nor write" not supported. */
	assert_int_equal(map_flags(f, 1u << 3 | VIRTIO_IOMMU_MAP_F_READ), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(map_flags(f, VIRTIO_IOMMU_MAP_F_MMIO | RW_F), VIRTIO_IOMMU_S_UNSUPP);
	assert_int_equal(map_flags(f, 0), VIRTIO_IOMMU_S_UNSUPP);
	assert_int_equal(f->nr_ops, 0);
	assert_int_equal(map_flags(f, VIRTIO_IOMMU_MAP_F_WRITE), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 1);
}

/* Any overlap with an existing mapping: INVAL, nothing changes (§5.13.6.5). */
static void map_overlap_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x10000, 0x13fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x13000, 0x14fff, 0), VIRTIO_IOMMU_S_INVAL);	/* tail */
	assert_int_equal(map(f, 1, 0x0f000, 0x10fff, 0), VIRTIO_IOMMU_S_INVAL);	/* head */
	assert_int_equal(map(f, 1, 0x11000, 0x11fff, 0), VIRTIO_IOMMU_S_INVAL);	/* inside */
	assert_int_equal(map(f, 1, 0x00000, 0x1ffff, 0), VIRTIO_IOMMU_S_INVAL);	/* around */
	assert_int_equal(f->nr_ops, 1);
	assert_int_equal(map(f, 1, 0x0f000, 0x0ffff, 0), VIRTIO_IOMMU_S_OK);	/* adjacent */
	assert_int_equal(map(f, 1, 0x14000, 0x14fff, 0), VIRTIO_IOMMU_S_OK);
	/* Another domain has its own IOVA space. */
	assert_int_equal(attach(f, 2, EP_B), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 2, 0x10000, 0x13fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->v.nr_maps, 4);
}

/* Out of locked memory: NOMEM, logged once, the endpoints done rolled back, no state. */
static void map_nomem_rolls_back(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(attach(f, 1, EP_B), VIRTIO_IOMMU_S_OK);
	f->fail_at = 1;
	f->fail_err = -ENOMEM;
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_NOMEM);
	assert_int_equal(f->nr_ops, 3);
	assert_op(f, 2, false, 0, 0x10000, G);	/* EP_A's half undone */
	assert_true(f->v.memlock_logged);
	assert_int_equal(f->v.nr_maps, 0);
	f->fail_at = 3;
	f->fail_err = -EIO;			/* any other backend error */
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_DEVERR);
	f->fail_at = -1;
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->v.nr_maps, 1);
}

/* ---- UNMAP ---- */

static void unmap_rules(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_unmap r = {
		.head.type = VIRTIO_IOMMU_T_UNMAP, .domain = htole32(1),
		.virt_start = 0, .virt_end = htole64(~0ull),
	};

	assert_int_equal(unmap(f, 1, 0, ~0ull), VIRTIO_IOMMU_S_NOENT);
	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x10000, 0x11fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x12000, 0x12fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x20000, 0x20fff, 0), VIRTIO_IOMMU_S_OK);
	f->nr_ops = 0;
	/* Splitting a mapping: RANGE, and nothing removed, not even the ones wholly covered. */
	assert_int_equal(unmap(f, 1, 0x10000, 0x10fff), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(unmap(f, 1, 0x11000, 0x12fff), VIRTIO_IOMMU_S_RANGE);
	assert_int_equal(unmap(f, 1, 0x12000, 0x20000), VIRTIO_IOMMU_S_RANGE);
	r.reserved[0] = 1;
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(unmap(f, 1, 0x2000, 0x1000), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(f->nr_ops, 0);
	/* Nothing mapped in the range: OK. */
	assert_int_equal(unmap(f, 1, 0x30000, 0x3ffff), VIRTIO_IOMMU_S_OK);
	/* A range covering two mappings and holes removes both. */
	assert_int_equal(unmap(f, 1, 0x8000, 0x1ffff), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 2);
	assert_op(f, 0, false, 0, 0x10000, 2 * G);
	assert_op(f, 1, false, 0, 0x12000, G);
	assert_int_equal(f->v.nr_maps, 1);
	/* [0, ~0] removes everything left. */
	r.reserved[0] = 0;
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_OK);
	assert_op(f, 2, false, 0, 0x20000, G);
	assert_int_equal(f->v.nr_maps, 0);
	assert_int_equal(f->v.made, 3);
	assert_int_equal(f->v.removed, 3);
	assert_int_equal(map(f, 1, 0x10000, 0x11fff, 0), VIRTIO_IOMMU_S_OK);	/* free again */
}

/* A mapping the backend failed to remove stays, so teardown removes it later. */
static void unmap_backend_failure_keeps_mapping(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_OK);
	f->fail_at = 1;
	f->fail_err = -EIO;
	assert_int_equal(unmap(f, 1, 0, ~0ull), VIRTIO_IOMMU_S_DEVERR);
	assert_int_equal(f->v.nr_maps, 1);
	f->nr_ops = 0;
	viommu_reset(&f->v);
	assert_int_equal(f->nr_ops, 1);
	assert_op(f, 0, false, 0, 0x10000, G);
}

/* ---- PROBE ---- */

static void probe_reports_msi_window(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_probe r = { .head.type = VIRTIO_IOMMU_T_PROBE,
					    .endpoint = htole32(EP_B) };
	uint8_t resp[VIOMMU_PROBE_SIZE + 4], want[24] = {
		1, 0, 20, 0,			/* RESV_MEM, 20 bytes after the header */
		VIRTIO_IOMMU_RESV_MEM_T_MSI, 0, 0, 0,
		0x00, 0x00, 0xe0, 0xfe, 0, 0, 0, 0,	/* start */
		0xff, 0xff, 0xef, 0xfe, 0, 0, 0, 0,	/* end, inclusive */
	};
	unsigned i;

	memset(resp, 0xaa, sizeof(resp));
	assert_int_equal(viommu_request(&f->v, &r, sizeof(r), resp, sizeof(resp)), VIRTIO_IOMMU_S_OK);
	assert_memory_equal(resp, want, sizeof(want));
	for (i = sizeof(want); i < sizeof(resp); i++)	/* T_NONE after it, tail OK */
		assert_int_equal(resp[i], 0);
	/* No state change: PROBE works on an unattached endpoint and maps nothing. */
	assert_int_equal(f->nr_ops, 0);
}

static void probe_checks(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_probe r = { .head.type = VIRTIO_IOMMU_T_PROBE,
					    .endpoint = htole32(0x18) };
	uint8_t resp[VIOMMU_PROBE_SIZE + 4];

	assert_int_equal(viommu_request(&f->v, &r, sizeof(r), resp, sizeof(resp)), VIRTIO_IOMMU_S_NOENT);
	assert_int_equal(resp[VIOMMU_PROBE_SIZE], VIRTIO_IOMMU_S_NOENT);
	r.endpoint = htole32(EP_A);
	r.reserved[63] = 1;
	assert_int_equal(viommu_request(&f->v, &r, sizeof(r), resp, sizeof(resp)), VIRTIO_IOMMU_S_INVAL);
	r.reserved[63] = 0;
	/* Smaller than probe_size: INVAL, in the last 4 bytes the driver gave. */
	assert_int_equal(viommu_request(&f->v, &r, sizeof(r), resp, 64), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(resp[60], VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(resp[0], 0);
}

/* ---- malformed requests ---- */

static void malformed_requests(void **state)
{
	struct fx *f = *state;
	struct virtio_iommu_req_map r = map_req(1, 0, G - 1, 0, RW_F);
	uint8_t small[3];

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	/* Too short for its type: INVAL, nothing mapped. */
	assert_int_equal(send(f, &r, sizeof(r) - 5), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(send(f, &r, 2), VIRTIO_IOMMU_S_INVAL);
	assert_int_equal(f->nr_ops, 0);
	/* Unknown type: UNSUPP. */
	r.head.type = 0x06;
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_UNSUPP);
	r.head.type = 0;
	assert_int_equal(send(f, &r, sizeof(r) - 4), VIRTIO_IOMMU_S_UNSUPP);
	/* No room for the tail: nothing done, the transport breaks the queue. */
	r.head.type = VIRTIO_IOMMU_T_MAP;
	assert_int_equal(viommu_request(&f->v, &r, sizeof(r) - 4, small, sizeof(small)), -EINVAL);
	assert_int_equal(f->nr_ops, 0);
	/* Longer than needed (extra readable bytes): served. */
	assert_int_equal(send(f, &r, sizeof(r)), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->nr_ops, 1);
}

/* Reset and teardown: every mapping off every endpoint, all detached. */
static void reset_unmaps_everything(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f, 1, EP_A), VIRTIO_IOMMU_S_OK);
	assert_int_equal(attach(f, 1, EP_B), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(map(f, 1, 0x20000, 0x21fff, 0), VIRTIO_IOMMU_S_OK);
	assert_int_equal(f->v.made, 2);
	assert_int_equal(f->v.removed, 0);
	f->nr_ops = 0;
	viommu_reset(&f->v);
	assert_int_equal(f->v.removed, 2);
	assert_int_equal(f->v.reset_removed, 2);
	assert_int_equal(f->nr_ops, 4);
	assert_op(f, 0, false, 0, 0x20000, 2 * G);
	assert_op(f, 1, false, 0, 0x10000, G);
	assert_op(f, 2, false, 1, 0x20000, 2 * G);
	assert_op(f, 3, false, 1, 0x10000, G);
	assert_int_equal(f->v.nr_maps, 0);
	assert_int_equal(map(f, 1, 0x10000, 0x10fff, 0), VIRTIO_IOMMU_S_NOENT);
	assert_int_equal(detach(f, 1, EP_A), VIRTIO_IOMMU_S_NOENT);
}

/* ---- config and events ---- */

static void config_bytes(void **state)
{
	struct fx *f = *state;
	uint8_t c[44], want[44] = {
		0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* page_size_mask */
		0, 0, 0, 0, 0, 0, 0, 0,				/* input_range.start */
		0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0,		/* input_range.end */
		1, 0, 0, 0, 31, 0, 0, 0,			/* domain_range */
		0x00, 0x01, 0, 0,				/* probe_size 256 */
		0, 0, 0, 0,					/* bypass, reserved */
		0, 0, 0, 0,					/* past the struct */
	};

	assert_int_equal(sizeof(struct virtio_iommu_config), 40);
	viommu_config_read(&f->v, 0, c, sizeof(c));
	assert_memory_equal(c, want, sizeof(want));
	viommu_config_read(&f->v, 28, c, 2);
	assert_int_equal(c[0], 31);
	viommu_config_read(&f->v, 0xffffffffu, c, 4);
	assert_int_equal(c[0] | c[1] | c[2] | c[3], 0);
}

static void fault_event_bytes(void **state)
{
	struct virtio_iommu_fault ev;
	const uint8_t want[24] = {
		VIRTIO_IOMMU_FAULT_R_MAPPING, 0, 0, 0,
		0x01, 0x01, 0, 0,			/* READ | ADDRESS */
		EP_A, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x30, 0x02, 0, 0, 0, 0, 0,
	};

	(void)state;
	viommu_fault_event(&ev, VIRTIO_IOMMU_FAULT_R_MAPPING,
			   VIRTIO_IOMMU_FAULT_F_READ | VIRTIO_IOMMU_FAULT_F_ADDRESS, EP_A, 0x23000);
	assert_int_equal(sizeof(ev), sizeof(want));
	assert_memory_equal(&ev, want, sizeof(want));
}

static void init_refuses_bad_params(void **state)
{
	struct fx *f = *state;
	struct viommu_params p = params;

	p.page_size_mask = 0;
	assert_int_equal(viommu_init(&f->v, &p, &f->mem, &rec_ops, f), -EINVAL);
	p = params;
	p.nr_endpoints = VIOMMU_MAX_ENDPOINTS + 1;
	assert_int_equal(viommu_init(&f->v, &p, &f->mem, &rec_ops, f), -EINVAL);
	p = params;
	p.domain_start = 5;
	p.domain_end = 4;
	assert_int_equal(viommu_init(&f->v, &p, &f->mem, &rec_ops, f), -EINVAL);
	assert_string_equal(viommu_status_name(VIRTIO_IOMMU_S_NOMEM), "NOMEM");
	assert_string_equal(viommu_status_name(9), "?");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(attach_checks), T(detach_checks), T(attach_moves_endpoint),
		T(attach_replay_failure_rolls_back), T(map_reaches_backend), T(map_checks),
		T(map_overlap_refused), T(map_nomem_rolls_back), T(unmap_rules),
		T(unmap_backend_failure_keeps_mapping), T(probe_reports_msi_window), T(probe_checks),
		T(malformed_requests), T(reset_unmaps_everything), T(config_bytes),
		cmocka_unit_test(fault_event_bytes), T(init_refuses_bad_params),
	};
	return cmocka_run_group_tests_name("viommu", tests, NULL, NULL);
}
