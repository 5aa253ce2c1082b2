/*
 * Fuzz target: virtio-iommu requests (vmm/virtio/viommu.c), the bytes a
 * guest driver puts in the request queue, against two endpoints and guest
 * RAM of 1 MiB (a heap block of exactly that size). A shadow backend keeps
 * what each endpoint has mapped and asserts what VFIO type1 would require
 * and what the spec promises: every MAP lies wholly in guest RAM, never
 * overlaps what that endpoint has, every UNMAP removes exactly one earlier
 * MAP whole, and after a reset nothing is left. Every answer's status
 * byte is a defined one, in the last 4 bytes given.
 *
 * Input: requests until it runs out; each is a u8 readable length, that
 * many bytes, and a u16 writable length (at most 300).
 */
#include <errno.h>

#include "tests/fuzz/fz.h"
#include "vmm/virtio/viommu.h"

#define RAM_SIZE	(1u << 20)
#define SHADOW_MAX	4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct shadow {
	uint8_t *ram;
	struct { unsigned ep; uint64_t iova, size; } map[SHADOW_MAX];
	unsigned n;
};

static int sh_map(void *opaque, unsigned ep, uint64_t iova, uint64_t size, void *hva, uint32_t flags)
{
	struct shadow *s = opaque;
	const uint8_t *p = hva;
	unsigned i;

	fz_assert(ep < 2 && size && flags && !(flags & ~3u), "map ep %u size %#llx flags %#x", ep,
		  (unsigned long long)size, flags);
	fz_assert(p >= s->ram && size <= RAM_SIZE && p - s->ram <= (ptrdiff_t)(RAM_SIZE - size),
		  "map of %#llx bytes outside guest RAM", (unsigned long long)size);
	fz_assert(iova + size - 1 >= iova, "IOVA range wraps");
	for (i = 0; i < s->n; i++)
		fz_assert(s->map[i].ep != ep || iova + size <= s->map[i].iova ||
			  s->map[i].iova + s->map[i].size <= iova, "overlapping MAP_DMA on ep %u", ep);
	if (s->n == SHADOW_MAX)
		return -ENOMEM;
	s->map[s->n].ep = ep;
	s->map[s->n].iova = iova;
	s->map[s->n++].size = size;
	return 0;
}

static int sh_unmap(void *opaque, unsigned ep, uint64_t iova, uint64_t size)
{
	struct shadow *s = opaque;
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (s->map[i].ep == ep && s->map[i].iova == iova && s->map[i].size == size) {
			s->map[i] = s->map[--s->n];
			return 0;
		}
	fz_assert(0, "UNMAP_DMA of %#llx+%#llx on ep %u: no such mapping", (unsigned long long)iova,
		  (unsigned long long)size, ep);
	return -EINVAL;
}

static const struct viommu_backend_ops sh_ops = { .map = sh_map, .unmap = sh_unmap };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct viommu_params p = {
		.page_size_mask = ~0xfffull, .input_start = 0, .input_end = (1ull << 39) - 1,
		.domain_start = 1, .domain_end = 3, .endpoint = { 0x08, 0x10 }, .nr_endpoints = 2,
		.resv = { { VIOMMU_MSI_START, VIOMMU_MSI_END, VIRTIO_IOMMU_RESV_MEM_T_MSI } },
		.nr_resv = 1,
	};
	struct fz f = { data, size };
	struct shadow *s = calloc(1, sizeof(*s));
	struct guest_mem mem = { .fd = -1 };
	uint8_t req[256], resp[300];
	struct viommu v;

	fz_assert(s, "calloc");
	s->ram = malloc(RAM_SIZE);
	fz_assert(s->ram, "malloc");
	guest_mem_layout(&mem, s->ram, RAM_SIZE);
	fz_assert(!viommu_init(&v, &p, &mem, &sh_ops, s), "init");
	while (f.n) {
		size_t rlen = fz_bytes(&f, req, fz_u8(&f)), wlen = fz_u16(&f) % (sizeof(resp) + 1);
		int st;

		st = viommu_request(&v, req, rlen, resp, wlen);
		if (wlen < 4) {
			fz_assert(st == -EINVAL, "no room for the tail, status %d", st);
			continue;
		}
		fz_assert(st >= 0 && st <= VIRTIO_IOMMU_S_NOMEM && resp[wlen - 4] == st,
			  "status %d, tail byte %u", st, resp[wlen - 4]);
	}
	viommu_reset(&v);
	fz_assert(s->n == 0 && v.nr_maps == 0, "%u mappings left after reset", s->n);
	free(s->ram);
	free(s);
	return 0;
}
